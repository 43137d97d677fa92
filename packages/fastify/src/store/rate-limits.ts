/**
 * Rate limits a store counts in the same atomic step as the write they guard (docs/protocol.md, Rate
 * limits), so an accepted page view costs one store round trip: the per-client limit (per device id,
 * or per address for a client that sent none) and the looser per-address limit that a client sending
 * a new random device id on every request cannot dodge. Fixed windows, as @fastify/rate-limit's: a
 * counter's window starts at its first hit. Shared by both backends: the counters of a call, in the
 * order they are checked, and their names (an address only ever as a keyed hash under the daily salt).
 */
import * as crypto from 'node:crypto';
import { isValidDeviceId } from '@devicelink/protocol';
import { DeviceLinkUsageError } from '../errors.js';
import { networkPrefixes } from './network-prefixes.js';
import { utcDay } from './utc-day.js';

/** The limits of one call (`touch`, `queueUserEvents`, `limit`). */
export interface RateLimits {
  /** Length of a window, ms. */
  windowMs: number;
  /** Keeps the client counters of one route apart from another's (`events`, `identify`); `[a-z0-9-]`. */
  group: string;
  /** Requests a client may make in a window: per `deviceId`, or per address without one. */
  clientMax: number;
  /** The device id the client sent (header, cookie or body), or null: the client limit counts per address. */
  deviceId: string | null;
  /** The client address. Stored only as a keyed hash under the daily salt, never as it is. */
  address: string;
  /** Requests one address may make in a window, whatever device ids it sends (all groups); null: none. */
  addressMax: number | null;
  /**
   * Limits on new device ids (`touch` only; {@link NewIdLimits}); absent or null: none. Counted only
   * when the call would start a device the store does not know.
   */
  newIds?: NewIdLimits | null;
}

/**
 * Limits on new device ids per network, per window (docs/protocol.md, Rate limits): a device is new
 * when the store holds neither a session nor an identity record for it, so page views of known ids,
 * and returning browsers with a live session or a fingerprint entry, are never counted.
 */
export interface NewIdLimits {
  /** Length of a window, ms. */
  windowMs: number;
  /** New ids per IPv4 address or IPv6 /64 (one subscriber). */
  perAddress: number;
  /** New ids per IPv4 /24 or IPv6 /48 (one site). */
  perNetwork: number;
  /** New ids per IPv6 /32 (one provider's allocation); IPv4 has no such level. */
  perBlock: number;
}

/** Where a counter stands: the figures of the `x-ratelimit-*` headers. */
export interface LimitState {
  max: number;
  remaining: number;
  /** Until the counter's window ends, ms. */
  resetMs: number;
}

/** A call refused by a limit: nothing was counted or written. */
export interface Limited {
  status: 'limited';
  /** The limit that refused: the client's, the address's, or one on new ids of a network. */
  by: 'client' | 'address' | 'network';
  limit: LimitState;
}

/** What {@link DeviceStore.limit} did: the client limit's state when allowed. */
export type LimitResult = { status: 'allowed'; limit: LimitState } | Limited;

/** One counter of a call. The address counter is checked before the client counter (as a proxy's would be). */
export interface LimitCounter {
  by: 'client' | 'address' | 'network';
  /** Counted only when the call starts a device the store does not know (the new-id limits). */
  onlyNew?: true;
  /** The counter's name under the store's prefix; never holds a raw address. */
  name: string;
  /**
   * The device whose session this counter lives in (the page-view group's device counter): a Redis
   * store keeps it as fields of that session hash, not as a key of its own.
   */
  inSession?: string;
  max: number;
  /**
   * The id whose partition holds the counter (a Redis Cluster slot): the device id for a device
   * counter, the address hash for address counters (both of an address share one slot).
   */
  anchor: string;
}

const GROUP = /^[a-z0-9-]{1,32}$/;

/**
 * The client counters of page views (`track()`): a device's sits in its session (a Redis store keeps
 * it in the session hash), so a new device makes one key less.
 */
export const PAGEVIEW_GROUP = 'events';

/** SHA-256 as base64url: Node's one-shot `crypto.hash` where it exists (20.12+), else a Hash object. */
const sha256: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) =>
        (crypto as unknown as { hash(a: string, t: string, e: string): string }).hash(
          'sha256',
          text,
          'base64url',
        )
    : (text) => crypto.createHash('sha256').update(text).digest('base64url');
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;

/** Throws DeviceLinkUsageError for limits a store cannot count (a caller's bug, not client input). */
function checkLimits(limits: RateLimits): void {
  if (!isCount(limits.windowMs)) throw new DeviceLinkUsageError('limits.windowMs must be a positive integer');
  if (!isCount(limits.clientMax))
    throw new DeviceLinkUsageError('limits.clientMax must be a positive integer');
  if (limits.addressMax !== null && !isCount(limits.addressMax)) {
    throw new DeviceLinkUsageError('limits.addressMax must be a positive integer or null');
  }
  if (!GROUP.test(limits.group)) throw new DeviceLinkUsageError('limits.group must be 1 to 32 of [a-z0-9-]');
  if (typeof limits.address !== 'string') throw new DeviceLinkUsageError('limits.address must be a string');
  if (limits.deviceId !== null && !isValidDeviceId(limits.deviceId)) {
    throw new DeviceLinkUsageError('limits.deviceId must be a valid device id or null');
  }
  const n = limits.newIds;
  if (n !== undefined && n !== null) {
    for (const k of ['windowMs', 'perAddress', 'perNetwork', 'perBlock'] as const) {
      if (!isCount(n[k])) throw new DeviceLinkUsageError(`limits.newIds.${k} must be a positive integer`);
    }
  }
}

/** The counters of `counters` that count every call, and those that count new ids only. */
export function splitNew(counters: LimitCounter[]): { always: LimitCounter[]; onlyNew: LimitCounter[] } {
  return { always: counters.filter((c) => !c.onlyNew), onlyNew: counters.filter((c) => c.onlyNew) };
}

/** The keyed names of an address's counters under the day's salt, made once per address and day. */
interface AddressNames {
  /** The address's keyed hash (the anchor of its counters). */
  hash: string;
  /** Its per-address counter. */
  ip: string;
  /** Its new-id counters: host, network and (IPv6) block, each with the limit it counts against. */
  newIds: { name: string; anchor: string; limit: 'perAddress' | 'perNetwork' | 'perBlock' }[];
}

/**
 * The names of an address's counters. An address that is not an IP address (a unix socket) counts as
 * a host of its own for the new-id limits.
 */
function addressNames(address: string, hash: (kind: 'a' | 'n', value: string) => string): AddressNames {
  const prefixes = networkPrefixes(address);
  const levels: [string, string, AddressNames['newIds'][number]['limit']][] = prefixes
    ? [
        ['h', prefixes.host, 'perAddress'],
        ['n', prefixes.cap, 'perNetwork'],
        ...(prefixes.family === 6 ? [['b', prefixes.block, 'perBlock'] as ['b', string, 'perBlock']] : []),
      ]
    : [['h', address, 'perAddress']];
  const a = hash('a', address);
  return {
    hash: a,
    ip: `ip:${a}`,
    newIds: levels.map(([level, prefix, limit]) => {
      const h = hash('n', prefix);
      return { name: `new:${level}:${h}`, anchor: h, limit };
    }),
  };
}

/** The client counter of a device. */
function deviceCounter(limits: RateLimits, deviceId: string, hashed: string): LimitCounter {
  const name = `${limits.group}:d:${hashed}`;
  // The device's slot: on a Redis Cluster the counter sits beside the device's session.
  return limits.group === PAGEVIEW_GROUP
    ? { by: 'client', name, max: limits.clientMax, anchor: deviceId, inSession: deviceId }
    : { by: 'client', name, max: limits.clientMax, anchor: deviceId };
}

/** The state of a counter at `count` with `ttlMs` left. */
export function limitState(max: number, count: number, ttlMs: number): LimitState {
  return { max, remaining: Math.max(0, max - count), resetMs: Math.max(0, ttlMs) };
}

/** The counters of a call, in the order they are checked, from its address's names. */
function countersOf(
  limits: RateLimits,
  address: AddressNames,
  deviceHash: (deviceId: string) => string,
): LimitCounter[] {
  const list: LimitCounter[] = [];
  if (limits.addressMax !== null) {
    list.push({ by: 'address', name: address.ip, max: limits.addressMax, anchor: address.hash });
  }
  list.push(
    limits.deviceId === null
      ? {
          by: 'client',
          name: `${limits.group}:a:${address.hash}`,
          max: limits.clientMax,
          anchor: address.hash,
        }
      : deviceCounter(limits, limits.deviceId, deviceHash(limits.deviceId)),
  );
  const newIds = limits.newIds;
  if (newIds) {
    for (const n of address.newIds) {
      list.push({ by: 'network', onlyNew: true, name: n.name, max: newIds[n.limit], anchor: n.anchor });
    }
  }
  return list;
}

/** Addresses whose counter names of the day {@link limitCounters} keeps. */
const NETWORK_HASHES_MAX = 10_000;

/**
 * Makes the counter lists of calls, hashing addresses under the store's salt of the day. Hashes of
 * recent addresses are kept (many requests come from few addresses: NAT, proxies).
 */
export function limitCounters(
  dailySalt: (day: string) => Promise<Buffer>,
): (limits: RateLimits, now?: number) => LimitCounter[] | Promise<LimitCounter[]> {
  let saltDay = '';
  let salt = '';
  // The names of the day's addresses (clients repeat: NAT, proxies, returning visitors): keyed
  // hashes made once, and the same strings each time, which the stores' own maps find fast.
  // Bounded: it starts over when full or when the salt changes.
  const names = new Map<string, AddressNames>();
  // Keyed hashes: no key holds an address, and none names a device (an erased device leaves none).
  // SHA-256 over the secret salt and the value; a device's is computed per request (a cache of
  // them thrashed with many devices, and an HMAC object per call cost more than this one-shot hash).
  const hash = (kind: 'a' | 'd' | 'n', value: string): string =>
    sha256(`${salt}${kind}${value}`).slice(0, 22);
  const namesOf = (address: string): AddressNames => {
    let known = names.get(address);
    if (known === undefined) {
      if (names.size >= NETWORK_HASHES_MAX) names.clear();
      known = addressNames(address, hash);
      names.set(address, known);
    }
    return known;
  };
  const counters = (limits: RateLimits): LimitCounter[] =>
    countersOf(limits, namesOf(limits.address), (deviceId) => hash('d', deviceId));
  // A promise only when the day's salt is not in hand yet (once a day): a page view costs no
  // extra promise for it.
  return (limits, now = Date.now()) => {
    checkLimits(limits);
    const day = utcDay(now);
    if (day === saltDay) return counters(limits);
    return dailySalt(day).then((bytes) => {
      if (day !== saltDay) {
        saltDay = day;
        salt = bytes.toString('base64url');
        names.clear();
      }
      return counters(limits);
    });
  };
}
