/**
 * `DeviceStore`: what the plugin's request path calls (docs/protocol.md, Anonymous session,
 * Conversion, Edges). Implementations: `redis/` (Redis or Redis Cluster, one Lua script per operation) and
 * `memory/` (the embedded default). Both pass `test/device-store.contract.ts`.
 *
 * Every mutating operation is atomic and also appends the matching record to the device's queue
 * partition (see the protocol's `queue/queue-records.ts`), so a session update and its queue entry never diverge.
 * The interface holds the request path only; erasure and the live-session read are `DeviceAdmin`, the
 * queue's reading side is `QueueConsumer`.
 */
import type { DeviceSource, PageviewEvent, PageviewRecord, TrafficClass } from '@devicelink/protocol';
import type { Limited, LimitResult, LimitState, RateLimits } from './rate-limits.js';

export type { DeviceSource, Limited, LimitResult, LimitState, RateLimits };

/** An edge the request path observed between the id that answered and the one that lost. */
export interface CookieEdge {
  /** `cookie`: a non-fresh client id beat a different valid cookie; `yield`: a fresh id yielded to it. */
  kind: 'cookie' | 'yield';
  /** The id that answered the request (the winning client id, or the cookie's id for `yield`). */
  deviceId: string;
  /** The id that lost (the rewritten cookie's id, or the fresh id that yielded). */
  otherId: string;
}

/**
 * A fingerprint as evidence for a device (docs/protocol.md, Fingerprint joins). Only keyed hashes
 * reach the store: the plugin hashes the visitorId, the network prefix and the browser family with
 * the recovery secret, which the store never sees.
 */
export interface FingerprintInput {
  /** The device that sent the evidence (its own id: never the id it might be joined to). */
  deviceId: string;
  /** Keyed hash of visitorId, network prefix (/24 or /64) and browser family: the index entry's key. */
  entry: string;
  /**
   * Keyed hash of the join prefix alone (/24 or /64): evidence counts only from the network where the
   * device was seen fresh ({@link DeviceStore.noteMinted} keeps it).
   */
  place: string;
  /** Keyed hash of the network the daily cap counts (/24 IPv4, /48 IPv6). */
  network: string;
  /** Keyed hash of the block whose share of the daily ceiling is capped (/16 IPv4, /32 IPv6). */
  block: string;
}

/**
 * What {@link DeviceStore.recordFingerprint} did. It never names the other device: a client learns
 * only whether its evidence was taken.
 */
export type FingerprintResult = {
  status:
    | 'registered'
    | 'joined'
    /** Not the device's first fingerprint: nothing changed. */
    | 'already'
    /** The fingerprint is shared on this network (twins seen): not used, not registered. */
    | 'shared'
    /** The network's, the block's or the store's daily cap of new entries is reached: not registered. */
    | 'capped'
    /**
     * The device was never seen fresh on this network (no `noteMinted` with this place, or its record
     * is gone): the evidence changes nothing, so an old or made-up id can neither squat, block nor revoke.
     */
    | 'stale'
    /**
     * The entry is a tombstone (a device of it was erased or withdrew consent): no registration or
     * join on it for `recoveryDays`.
     */
    | 'closed'
    | 'erased';
};

/** A device's live anonymous session. Times are server milliseconds (Redis `TIME`). */
export interface LiveSession {
  sessionId: string;
  deviceId: string;
  source: DeviceSource;
  visitorHash: string | null;
  firstSeen: number;
  lastSeen: number;
  pagesVisited: number;
}

/** A page view ready to queue: its id is always set (the server makes one when the client sent none). */
export type QueuedPageview = PageviewEvent & { id: string };

export interface TouchInput {
  deviceId: string;
  source: DeviceSource;
  /** Keyed hash of IP, User-Agent and language; set for server-tier ids. Never the raw IP. */
  visitorHash: string | null;
  /** Goes into the queued records (and so Postgres), not into the live session, to keep it small. */
  userAgent: string | null;
  /** The request's traffic class and reason, and its network hash: queued with each page view. */
  traffic?: { trafficClass: TrafficClass; trafficReason: string | null; networkHash: string | null };
  /** 1 to 100 page views. An id seen in the last 10 minutes is skipped. */
  events: QueuedPageview[];
  /** Counted in the same step: over either limit, nothing is counted or queued (`limited`). */
  limits?: RateLimits;
}

/** The client limit's state after a limited call (absent when the call had no limits). */
interface WithLimit {
  limit?: LimitState;
}

export type TouchResult =
  | ({
      status: 'ok';
      session: LiveSession;
      /** Events counted by this call (ids already seen are not). */
      accepted: number;
      /** True when this call started the session (first visit, idle or max-age rollover). */
      newSession: boolean;
    } & WithLimit)
  /**
   * Every event was a duplicate (e.g. a retry after the session ended at conversion) and no session
   * is live: nothing was counted or queued, and no empty session was started for it.
   */
  | ({ status: 'duplicate' } & WithLimit)
  /** The device was erased: nothing was counted or queued. */
  | ({ status: 'erased' } & WithLimit)
  | Limited;

export type ConvertResult =
  /** A link was appended; `sessionId` is the live session it ended, if there was one. */
  | { status: 'linked'; sessionId: string | null }
  /** Same device and user again with nothing new since: no link added. */
  | { status: 'unchanged'; sessionId: null }
  | { status: 'erased'; sessionId: null };

/** A replacement to check and record (docs/protocol.md, Replacement marker). */
export interface ReplaceInput {
  /** The new id the client sent (header, not fresh). */
  deviceId: string;
  /** The id it replaces: the request's `device_fp` cookie, which the marker named. */
  replacedId: string;
}

/**
 * What {@link DeviceStore.replaceDevice} did: `replaced` (the new id was unknown, or this same
 * replacement was recorded already: the cookie may move) or `known` (the new id has a live session,
 * an identity record, a tombstone, a link or an edge: the cookie stays).
 */
export type ReplaceResult = { status: 'replaced' | 'known' };

/** What {@link DeviceStore.queueUserEvents} did. */
export type UserEventsResult =
  | ({ status: 'ok'; accepted: number } & WithLimit)
  /** The user was erased in the last 30 days: nothing was queued. */
  | ({ status: 'erased' } & WithLimit)
  | Limited;

/** The store the plugin takes: the request path's operations, nothing else. */
export interface DeviceStore {
  /**
   * Counts `events` in the device's session (starting one when needed) and queues them, atomically,
   * with `input.limits` counted in the same step. One store round trip (on a Redis Cluster, the
   * address counters live in the address's slot: their command goes out in the same tick, pipelined).
   */
  touch(input: TouchInput): Promise<TouchResult>;
  /**
   * Conversion: ends the live session and queues an identity link (device, user, server time).
   * The same device and user again, with no live session since, adds no link. An erased device, or a
   * user erased in the last 30 days, answers `erased` and links nothing.
   */
  convert(deviceId: string, userId: string): Promise<ConvertResult>;
  /**
   * Queues an edge record of a cookie edge or a fresh id that yielded to the cookie, once per pair and
   * day (repeats are cheap no-ops); nothing when either id is erased.
   */
  recordEdge(edge: CookieEdge): Promise<void>;
  /**
   * A replacement marker: when `deviceId` is unknown to the store (no live session, identity record,
   * tombstone, last link, edge or recent event), queues a `boundary` record (new id, replaced id,
   * server time) and remembers the pair for a day, atomically in the new id's slot; the same pair
   * again answers `replaced` without a second record. Records no edge.
   */
  replaceDevice(input: ReplaceInput): Promise<ReplaceResult>;
  /**
   * Notes that a fresh (just minted) client id answered a request from `place` (the keyed hash of its
   * join prefix): the start of the short window in which its fingerprint may join it to an earlier
   * device, on that network only. Idempotent; first call wins.
   */
  noteMinted(deviceId: string, place: string): Promise<void>;
  /**
   * The fingerprint evidence of a device: registers it, or joins the device to the one other device
   * registered with it (same network and browser family) when the device was minted at most
   * `joinWindowSeconds` ago. Only a device's first fingerprint counts.
   */
  recordFingerprint(input: FingerprintInput): Promise<FingerprintResult>;
  /**
   * Consent withdrawn: deletes the device's fingerprint entries (its own and the one it is joined
   * through, so at both ends) and its identity record, and queues a `forget-edges` record so every
   * edge naming it goes from Postgres.
   */
  withdrawRecovery(deviceId: string): Promise<void>;
  /**
   * Queues an authenticated user's page views in the user id's partition, unless the user was erased
   * in the last 30 days (checked in the same atomic step, so nothing lands behind the erase record),
   * with `limits` counted in the same step.
   */
  queueUserEvents(userId: string, records: PageviewRecord[], limits?: RateLimits): Promise<UserEventsResult>;
  /** Counts `limits` alone, for a route whose write is not one of the above (conversion). */
  limit(limits: RateLimits): Promise<LimitResult>;
  /** The secret salt of a UTC day (`YYYY-MM-DD`), made once and shared by every process on the store. */
  dailySalt(day: string): Promise<Buffer>;
}
