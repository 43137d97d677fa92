/**
 * The session side of the memory store, with the Redis store's semantics. Every operation runs
 * synchronously to completion, so each is atomic by construction. Expiry is enforced on read plus a
 * periodic sweep (`memory-store.ts`). The maps are bounded (`maxSessions`, tombstones ten times that)
 * and so is the queue (`maxQueued`): when the persister falls behind (Postgres down), page views, links
 * and edges are refused with QueueFullError (503) instead of growing until out of memory. Erasures
 * are always taken: they are rare and must not wait for Postgres.
 */
import { randomBytes } from 'node:crypto';
import type { PageviewRecord, QueueRecord } from '@devicelink/protocol';
import { EVENT_DEDUPE_SECONDS, partitionOf, TOMBSTONE_SECONDS, uuidv7 } from '@devicelink/protocol';
import { saltLifetimeMs } from '../store/daily-salt.js';
import type { DeviceAdmin } from '../store/device-admin.js';
import type {
  ConvertResult,
  CookieEdge,
  DeviceStore,
  FingerprintInput,
  FingerprintResult,
  LiveSession,
  ReplaceInput,
  ReplaceResult,
  TouchInput,
  TouchResult,
  UserEventsResult,
} from '../store/device-store.js';
import { pageviewDraft } from '../store/pageview-draft.js';
import { type LimitResult, type RateLimits, splitNew } from '../store/rate-limits.js';
import { EDGE_DEDUPE_SECONDS, type ResolvedStoreOptions } from '../store/store-options.js';
import { ExpiringMap } from './expiring-map.js';
import { MemoryIdentity } from './memory-identity.js';
import { isLimited, MemoryLimits } from './memory-limits.js';
import type { MemoryQueue } from './memory-queue.js';
import type { SessionSnapshot, StoredSession } from './session-snapshot.js';

const DEDUPE_MS = EVENT_DEDUPE_SECONDS * 1000;

/** The session side of the memory store. Built by `createMemoryStore`. */
export class MemorySessions implements DeviceStore, DeviceAdmin {
  readonly #o: ResolvedStoreOptions;
  readonly #queue: MemoryQueue;
  readonly #now: () => number;
  readonly #sessions: ExpiringMap<string, StoredSession>;
  /** Event ids seen per device in the last 10 minutes (id to time seen). */
  readonly #seen: ExpiringMap<string, Map<string, number>>;
  readonly #tombstones: ExpiringMap<string, true>;
  readonly #userTombstones: ExpiringMap<string, true>;
  readonly #lastLinked: ExpiringMap<string, string>;
  readonly #edges: ExpiringMap<string, Set<string>>;
  readonly #identity: MemoryIdentity;
  readonly #salts: ExpiringMap<string, Buffer>;
  readonly #limits: MemoryLimits;

  constructor(o: ResolvedStoreOptions, queue: MemoryQueue, now: () => number, maxSessions: number) {
    this.#o = o;
    this.#queue = queue;
    this.#now = now;
    this.#sessions = new ExpiringMap(maxSessions, now);
    this.#seen = new ExpiringMap(maxSessions, now);
    // Tombstones must outlive pressure from live traffic, so they get a larger bound of their own.
    this.#tombstones = new ExpiringMap(maxSessions * 10, now);
    this.#userTombstones = new ExpiringMap(maxSessions * 10, now);
    this.#lastLinked = new ExpiringMap(maxSessions, now);
    this.#edges = new ExpiringMap(maxSessions, now);
    this.#identity = new MemoryIdentity(
      o,
      {
        now,
        append: (key, record) => this.#append(key, record),
        erased: (deviceId) => this.#tombstones.get(deviceId) === true,
      },
      maxSessions,
    );
    this.#salts = new ExpiringMap(16, now);
    this.#limits = new MemoryLimits((day) => this.dailySalt(day), now, maxSessions);
  }

  async touch(input: TouchInput): Promise<TouchResult> {
    const { deviceId, limits } = input;
    // The only await (the salt of the address hash): counting and writing run on in one step.
    const { always, onlyNew } = splitNew(limits ? await this.#limits.counters(limits) : []);
    const counted = limits ? this.#limits.count(always, limits.windowMs) : null;
    if (counted && isLimited(counted)) return counted;
    const extra = counted ? { limit: counted } : {};
    if (this.#tombstones.get(deviceId)) return { status: 'erased', ...extra };
    // A device the store does not know (no session, no identity record): the new-id limits count it,
    // before anything is written (as touch.lua).
    if (onlyNew.length > 0 && !this.#sessions.get(deviceId) && !this.#identity.knows(deviceId)) {
      const fresh = this.#limits.count(onlyNew, limits?.newIds?.windowMs ?? 1);
      if (isLimited(fresh)) return fresh;
    }
    // Before anything changes: a refused touch counts nothing (duplicates are counted as room too).
    this.#queue.ensureRoom(input.events.length);
    const now = this.#now();
    const seen = this.#seen.get(deviceId) ?? new Map<string, number>();
    const fresh = input.events.filter((e) => {
      const at = seen.get(e.id);
      if (at !== undefined && now - at < DEDUPE_MS) return false;
      seen.set(e.id, now);
      return true;
    });
    for (const [id, at] of seen) if (now - at >= DEDUPE_MS) seen.delete(id);
    this.#seen.set(deviceId, seen, DEDUPE_MS);

    let s = this.#live(deviceId, now);
    // Same as touch.lua: only duplicates and no live session start nothing (no 0-page session).
    if (!s && fresh.length === 0) return { status: 'duplicate', ...extra };
    const newSession = s === null;
    if (!s) {
      s = {
        sessionId: uuidv7(now),
        source: input.source,
        visitorHash: input.visitorHash,
        firstSeen: now,
        lastSeen: now,
        pagesVisited: 0,
      };
    }
    s.pagesVisited += fresh.length;
    s.lastSeen = now;
    this.#sessions.set(deviceId, s, this.#o.idleMs);
    this.#identity.seen(deviceId);
    const sessionId = s.sessionId;
    this.#queue.appendToPartition(
      this.#partition(deviceId),
      fresh.map((e) => ({ ...pageviewDraft(input, e), sessionId, serverTs: now })),
    );
    return { status: 'ok', session: view(deviceId, s), accepted: fresh.length, newSession, ...extra };
  }

  async session(deviceId: string): Promise<LiveSession | null> {
    const s = this.#live(deviceId, this.#now());
    return s ? view(deviceId, s) : null;
  }

  async convert(deviceId: string, userId: string): Promise<ConvertResult> {
    if (this.#tombstones.get(deviceId) || this.#userTombstones.get(userId)) {
      return { status: 'erased', sessionId: null };
    }
    this.#queue.ensureRoom(1);
    const now = this.#now();
    const live = this.#live(deviceId, now);
    if (!live && this.#lastLinked.get(deviceId) === userId) return { status: 'unchanged', sessionId: null };
    this.#sessions.delete(deviceId);
    this.#lastLinked.set(deviceId, userId, this.#o.lookbackSeconds * 1000);
    const sessionId = live?.sessionId ?? null;
    this.#append(deviceId, { kind: 'link', deviceId, userId, ts: now, sessionId });
    return { status: 'linked', sessionId };
  }

  async recordEdge({ kind, deviceId, otherId }: CookieEdge): Promise<void> {
    // Either id erased: an edge must not bring an erased id back (a stale cookie after erasure).
    if (deviceId === otherId || this.#tombstones.get(deviceId) || this.#tombstones.get(otherId)) return;
    const known = this.#edges.get(deviceId);
    const pair = `${kind}:${otherId}`;
    if (known?.has(pair)) return;
    this.#queue.ensureRoom(1);
    if (known) known.add(pair);
    else this.#edges.set(deviceId, new Set([pair]), EDGE_DEDUPE_SECONDS * 1000);
    this.#append(deviceId, { kind: 'edge', edge: kind, deviceId, otherId, ts: this.#now() });
  }

  async replaceDevice({ deviceId, replacedId }: ReplaceInput): Promise<ReplaceResult> {
    // As replace.lua: the same pair again moves the cookie again; any trace of the new id refuses.
    const pair = `replace:${replacedId}`;
    const known = this.#edges.get(deviceId);
    if (known?.has(pair)) return { status: 'replaced' };
    const traces = [this.#sessions, this.#tombstones, this.#lastLinked, this.#seen] as ExpiringMap<
      string,
      unknown
    >[];
    if (known || this.#identity.has(deviceId)) return { status: 'known' };
    if (traces.some((m) => m.get(deviceId) !== undefined)) return { status: 'known' };
    this.#queue.ensureRoom(1);
    this.#edges.set(deviceId, new Set([pair]), EDGE_DEDUPE_SECONDS * 1000);
    this.#append(deviceId, { kind: 'boundary', deviceId, otherId: replacedId, ts: this.#now() });
    return { status: 'replaced' };
  }

  async noteMinted(deviceId: string, place: string): Promise<void> {
    if (!this.#tombstones.get(deviceId)) this.#identity.noteMinted(deviceId, place);
  }

  async recordFingerprint(input: FingerprintInput): Promise<FingerprintResult> {
    // A join or a revocation queues a record: refused with the rest when the queue is full.
    this.#queue.ensureRoom(2);
    return this.#identity.recordFingerprint(input);
  }

  async withdrawRecovery(deviceId: string): Promise<void> {
    const others = this.#identity.forget(deviceId);
    this.#edges.delete(deviceId);
    const ts = this.#now();
    // Also behind whatever the other device queued naming this one (a join in its partition).
    for (const key of [deviceId, ...others]) this.#append(key, { kind: 'forget-edges', deviceId, ts });
  }

  async erase(deviceId: string): Promise<void> {
    this.#identity.forget(deviceId);
    this.#sessions.delete(deviceId);
    this.#seen.delete(deviceId);
    this.#lastLinked.delete(deviceId);
    this.#edges.delete(deviceId);
    this.#tombstones.set(deviceId, true, TOMBSTONE_SECONDS * 1000);
    this.#append(deviceId, { kind: 'erase', deviceId, ts: this.#now() });
  }

  async queueUserEvents(
    userId: string,
    records: PageviewRecord[],
    limits?: RateLimits,
  ): Promise<UserEventsResult> {
    const counted = limits
      ? this.#limits.count(splitNew(await this.#limits.counters(limits)).always, limits.windowMs)
      : null;
    if (counted && isLimited(counted)) return counted;
    const extra = counted ? { limit: counted } : {};
    if (this.#userTombstones.get(userId)) return { status: 'erased', ...extra };
    this.#queue.ensureRoom(records.length);
    this.#queue.appendToPartition(this.#partition(userId), records);
    return { status: 'ok', accepted: records.length, ...extra };
  }

  async limit(limits: RateLimits): Promise<LimitResult> {
    const counted = this.#limits.count(splitNew(await this.#limits.counters(limits)).always, limits.windowMs);
    return isLimited(counted) ? counted : { status: 'allowed', limit: counted };
  }

  async eraseUser(userId: string): Promise<void> {
    this.#userTombstones.set(userId, true, TOMBSTONE_SECONDS * 1000);
    this.#append(userId, { kind: 'erase-user', userId, ts: this.#now() });
  }

  async forgetUser(deviceId: string, userId: string): Promise<void> {
    if (this.#lastLinked.get(deviceId) === userId) this.#lastLinked.delete(deviceId);
    this.#append(deviceId, { kind: 'erase-user', userId, ts: this.#now() });
  }

  async dailySalt(day: string): Promise<Buffer> {
    let salt = this.#salts.get(day);
    if (!salt) {
      salt = randomBytes(32);
      this.#salts.set(day, salt, saltLifetimeMs(day, this.#now()));
    }
    return salt;
  }

  /** Drops expired entries of every map. */
  sweep(): void {
    for (const m of this.#maps()) m.sweep();
    this.#identity.sweep();
    // Rate-limit windows are not kept through a restart: a window starts anew.
    this.#limits.sweep();
  }

  /** Writes and deletes so far, over every map: a snapshot is due when it moved. */
  changes(): number {
    let n = 0;
    for (const m of this.#maps()) n += m.changes;
    return n;
  }

  /** The state to keep through a restart (`session-snapshot.ts`). */
  snapshot(): SessionSnapshot {
    const all = <V, T>(m: ExpiringMap<string, V>, f: (v: V) => T) =>
      [...m.live()].map(([k, v, at]): [string, T, number] => [k, f(v), at]);
    const same = <V>(v: V) => v;
    return {
      v: 1,
      sessions: all(this.#sessions, same),
      seen: all(this.#seen, (ids) => [...ids]),
      tombstones: all(this.#tombstones, same),
      userTombstones: all(this.#userTombstones, same),
      lastLinked: all(this.#lastLinked, same),
      edges: all(this.#edges, (set) => [...set]),
      salts: all(this.#salts, (b) => b.toString('base64')),
    };
  }

  /** Takes back the state of a snapshot (entries expired since are dropped on read). */
  restore(s: SessionSnapshot): void {
    const put = <V, T>(m: ExpiringMap<string, V>, entries: Array<[string, T, number]>, f: (t: T) => V) => {
      for (const [k, t, at] of entries) m.restore(k, f(t), at);
    };
    const same = <V>(v: V) => v;
    put(this.#sessions, s.sessions, same);
    put(this.#seen, s.seen, (ids) => new Map(ids));
    put(this.#tombstones, s.tombstones, same);
    put(this.#userTombstones, s.userTombstones, same);
    put(this.#lastLinked, s.lastLinked, same);
    put(this.#edges, s.edges, (ids) => new Set(ids));
    put(this.#salts, s.salts, (b64) => Buffer.from(b64, 'base64'));
  }

  #maps(): ExpiringMap<string, unknown>[] {
    return [
      this.#sessions,
      this.#seen,
      this.#tombstones,
      this.#userTombstones,
      this.#lastLinked,
      this.#edges,
      this.#salts,
    ] as ExpiringMap<string, unknown>[];
  }

  #live(deviceId: string, now: number): StoredSession | null {
    const s = this.#sessions.get(deviceId);
    if (!s) return null;
    // Same rule as the Redis script: idle or too old means over, even before the sweep sees it.
    if (now - s.lastSeen >= this.#o.idleMs || now - s.firstSeen >= this.#o.maxMs) {
      this.#sessions.delete(deviceId);
      return null;
    }
    return s;
  }

  /** The partition of a device id or, for user records, a user id. */
  #partition(key: string): number {
    return partitionOf(key, this.#o.partitions);
  }

  #append(key: string, record: QueueRecord): void {
    this.#queue.appendToPartition(this.#partition(key), [record]);
  }
}

const view = (deviceId: string, s: StoredSession): LiveSession => ({
  sessionId: s.sessionId,
  deviceId,
  source: s.source,
  visitorHash: s.visitorHash,
  firstSeen: s.firstSeen,
  lastSeen: s.lastSeen,
  pagesVisited: s.pagesVisited,
});
