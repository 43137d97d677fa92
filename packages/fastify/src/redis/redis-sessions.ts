/**
 * {@link DeviceStore} and {@link DeviceAdmin} on Redis or Redis Cluster: each operation is one Lua script over the device's
 * keys and its partition stream (all in one slot), so a session update and its queue entries happen
 * together in one round trip, with server time from Redis `TIME`.
 */
import { randomBytes } from 'node:crypto';
import type { DeviceSource, PageviewRecord } from '@devicelink/protocol';
import { EVENT_DEDUPE_SECONDS, partitionOf, TOMBSTONE_SECONDS, uuidv7 } from '@devicelink/protocol';
import { encodeRecord } from '../records/record-encoding.js';
import { openSalt, saltKeyId, saltLifetimeMs, sealSalt } from '../store/daily-salt.js';
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
import type { Limited, LimitResult, LimitState, RateLimits } from '../store/rate-limits.js';
import { EDGE_DEDUPE_SECONDS, type ResolvedStoreOptions } from '../store/store-options.js';
import type { CommandClient } from './redis-commands.js';
import { RedisIdentity } from './redis-identity.js';
import type { DeviceKeys, RedisKeys } from './redis-keys.js';
import { type LimitPlan, RedisLimits } from './redis-limits.js';

/** touch.lua's key count; where its two rate limits (ARGV 8, 9) and its new-id mode (ARGV 14) sit after the keys. */
const TOUCH_KEYS = 10;
const TOUCH_LIMITS_ARG = 7;
const TOUCH_NEW_MODE_ARG = 13;

type TouchReply = [string, ...(string | number)[]];

// One letter per source keeps the session hash small (target: at most 300 bytes a live session).
const SOURCE_CODE: Record<DeviceSource, string> = { header: 'h', cookie: 'c', server: 's' };
const CODE_SOURCE: Record<string, DeviceSource> = { h: 'header', c: 'cookie', s: 'server' };

/** The session side of the Redis store. Built by `createRedisStore`. */
export class RedisSessions implements DeviceStore, DeviceAdmin {
  readonly #redis: CommandClient;
  readonly #keys: RedisKeys;
  readonly #o: ResolvedStoreOptions;
  readonly #salts = new Map<string, Buffer>();
  readonly #limits: RedisLimits;
  readonly #identity: RedisIdentity;

  readonly #saltKey: Uint8Array | null;
  readonly #saltKeyId: string | undefined;

  constructor(
    redis: CommandClient,
    keys: RedisKeys,
    options: ResolvedStoreOptions,
    saltKey: Uint8Array | null,
  ) {
    this.#redis = redis;
    this.#keys = keys;
    this.#o = options;
    this.#saltKey = saltKey;
    this.#saltKeyId = saltKey ? saltKeyId(saltKey) : undefined;
    this.#limits = new RedisLimits(redis, keys, (day) => this.dailySalt(day));
    this.#identity = new RedisIdentity(redis, keys, options);
  }

  async touch(input: TouchInput): Promise<TouchResult> {
    const k = this.#keys.device(input.deviceId);
    const plan = await this.#limits.plan(input.limits, k.partition, k.session);
    const args = this.#touchArgs(k, plan, input);
    const { written: head, outside } = await this.#limits.guard(plan, () => this.#redis.dlTouch(...args));
    if (head === null) return outside as Limited;
    // The counters' reply: the limited ones' position, then count and ms left; the others', at the end.
    const limit = this.#limits.resolve(
      plan,
      head[0] === 'limited' ? Number(head[1]) : 0,
      Number(head.at(-2)),
      Number(head.at(-1)),
      outside,
    );
    if (limit && 'status' in limit) return limit;
    if (head[0] === 'newlimited') {
      return this.#limits.newIdRefusal(plan, Number(head[1]), Number(head[2]), Number(head[3]));
    }
    let reply = head;
    if (head[0] === 'new') {
      // A Cluster and a device the store does not know: its new-id counters (other slots) head, then
      // the write again, its own counters already counted (limits 0, no new-id mode).
      const refused = await this.#limits.countNew(plan);
      if (refused) return refused;
      args.splice(TOUCH_KEYS + TOUCH_LIMITS_ARG, 2, 0, 0);
      args[TOUCH_KEYS + TOUCH_NEW_MODE_ARG] = '';
      reply = await this.#redis.dlTouch(...args);
    }
    return this.#touched(input, reply, limit);
  }

  /** The keys and arguments of touch.lua (its header says which is which). */
  #touchArgs(k: DeviceKeys, plan: LimitPlan, input: TouchInput): (string | number)[] {
    const [window, max1, max2] = plan.scriptArgs;
    const n = plan.newIds;
    const args: (string | number)[] = [
      k.session,
      k.tombstone,
      k.seen,
      k.stream,
      k.identity,
      plan.scriptKeys[0],
      plan.scriptKeys[1],
      n.scriptKeys[0],
      n.scriptKeys[1],
      n.scriptKeys[2],
      uuidv7(),
      this.#o.idleMs,
      this.#o.maxMs,
      SOURCE_CODE[input.source],
      input.visitorHash ?? '',
      EVENT_DEDUPE_SECONDS * 1000,
      window,
      max1,
      max2,
      n.scriptArgs[0],
      n.scriptArgs[1],
      n.scriptArgs[2],
      n.scriptArgs[3],
      n.mode,
    ];
    for (const e of input.events) args.push(e.id, encodeRecord(pageviewDraft(input, e)));
    return args;
  }

  /** The result of touch.lua's reply for a call no limit refused. */
  async #touched(input: TouchInput, reply: TouchReply, limit: LimitState | undefined): Promise<TouchResult> {
    const status = reply[0];
    const extra = limit ? { limit } : {};
    if (status === 'erased') return { status: 'erased', ...extra };
    // Every event was a duplicate and no session was live: none was started (touch.lua).
    if (status === 'duplicate') return { status: 'duplicate', ...extra };
    const [, sessionId, src, vh, first, last, pages, accepted, started, identity] = reply;
    // Seen on a request of its own: a join to this device is revoked before the answer (rare: once).
    // The page views are queued already: a failure here must not fail them, and the record keeps its
    // flag, so the device's next request tries again.
    if (identity) await this.#identity.afterTouch(input.deviceId, String(identity)).catch(() => {});
    return {
      ...extra,
      status: 'ok',
      session: {
        sessionId: String(sessionId),
        deviceId: input.deviceId,
        source: CODE_SOURCE[String(src)] ?? input.source,
        visitorHash: vh ? String(vh) : null,
        firstSeen: Number(first),
        lastSeen: Number(last),
        pagesVisited: Number(pages),
      },
      accepted: Number(accepted),
      newSession: Number(started) === 1,
    };
  }

  async session(deviceId: string): Promise<LiveSession | null> {
    const k = this.#keys.device(deviceId);
    const s = await this.#redis.dlSession(k.session, this.#o.idleMs, this.#o.maxMs);
    if (!s) return null;
    const [sessionId, src, vh, first, last, pages] = s;
    return {
      sessionId,
      deviceId,
      source: CODE_SOURCE[src] ?? 'header',
      visitorHash: vh || null,
      firstSeen: Number(first),
      lastSeen: Number(last),
      pagesVisited: Number(pages),
    };
  }

  async convert(deviceId: string, userId: string): Promise<ConvertResult> {
    const k = this.#keys.device(deviceId);
    // The user tombstone lives in the user id's slot, so it is read before the device's script; a link
    // queued in the gap is dropped by the persister, which keeps the tombstone too.
    if ((await this.#redis.exists(this.#keys.user(userId).tombstone)) === 1) {
      return { status: 'erased', sessionId: null };
    }
    const [status, sessionId] = await this.#redis.dlConvert(
      k.session,
      k.tombstone,
      k.lastLinked,
      k.stream,
      userId,
      this.#o.idleMs,
      this.#o.maxMs,
      this.#o.lookbackSeconds,
      encodeRecord({ kind: 'link', deviceId, userId }),
    );
    if (status === 'linked') return { status: 'linked', sessionId: sessionId ?? null };
    return { status: status === 'erased' ? 'erased' : 'unchanged', sessionId: null };
  }

  async recordEdge({ kind, deviceId, otherId }: CookieEdge): Promise<void> {
    if (deviceId === otherId) return;
    // An erased other id (a stale cookie) must not come back through an edge record. Its tombstone
    // lives in the other id's slot, which a Cluster script over the device's keys cannot touch, so it
    // is read first, as convert() reads the user tombstone.
    if ((await this.#redis.exists(this.#keys.device(otherId).tombstone)) === 1) return;
    const k = this.#keys.device(deviceId);
    await this.#redis.dlEdge(
      k.tombstone,
      k.edges,
      k.stream,
      `${kind}:${otherId}`,
      EDGE_DEDUPE_SECONDS,
      encodeRecord({ kind: 'edge', edge: kind, deviceId, otherId }),
    );
  }

  async replaceDevice({ deviceId, replacedId }: ReplaceInput): Promise<ReplaceResult> {
    const k = this.#keys.device(deviceId);
    const replaced = await this.#redis.dlReplace(
      k.edges,
      k.session,
      k.identity,
      k.tombstone,
      k.lastLinked,
      k.seen,
      k.stream,
      `replace:${replacedId}`,
      EDGE_DEDUPE_SECONDS,
      encodeRecord({ kind: 'boundary', deviceId, otherId: replacedId }),
    );
    return { status: Number(replaced) === 1 ? 'replaced' : 'known' };
  }

  noteMinted(deviceId: string, place: string): Promise<void> {
    return this.#identity.noteMinted(deviceId, place);
  }

  recordFingerprint(input: FingerprintInput): Promise<FingerprintResult> {
    return this.#identity.recordFingerprint(input);
  }

  async withdrawRecovery(deviceId: string): Promise<void> {
    const k = this.#keys.device(deviceId);
    await this.#identity.forget(deviceId, async () => {
      const ts = await this.#redis.dlWithdraw(
        k.identity,
        k.edges,
        k.stream,
        encodeRecord({ kind: 'forget-edges', deviceId }),
      );
      // Also behind what the other device queued naming this one (its join edge), at the same time.
      return encodeRecord({ kind: 'forget-edges', deviceId, ts: Number(ts) });
    });
  }

  async erase(deviceId: string): Promise<void> {
    const k = this.#keys.device(deviceId);
    await this.#identity.forget(deviceId, async () => {
      await this.#redis.dlErase(
        k.session,
        k.seen,
        k.lastLinked,
        k.edges,
        k.tombstone,
        k.stream,
        k.identity,
        TOMBSTONE_SECONDS,
        encodeRecord({ kind: 'erase', deviceId }),
      );
      return null;
    });
  }

  async queueUserEvents(
    userId: string,
    records: PageviewRecord[],
    limits?: RateLimits,
  ): Promise<UserEventsResult> {
    if (records.length === 0 && !limits) return { status: 'ok', accepted: 0 };
    const k = this.#keys.user(userId);
    const plan = await this.#limits.plan(limits, partitionOf(userId, this.#keys.partitions), k.tombstone);
    const { written: reply, outside } = await this.#limits.guard(plan, () =>
      this.#redis.dlUserAppend(
        k.tombstone,
        k.stream,
        ...plan.scriptKeys,
        ...plan.scriptArgs,
        ...records.map(encodeRecord),
      ),
    );
    if (reply === null) return outside as Limited;
    const [status, position, count, ttl] = reply;
    const limit = this.#limits.resolve(
      plan,
      status === 'limited' ? Number(position) : 0,
      Number(count),
      Number(ttl),
      outside,
    );
    if (limit && 'status' in limit) return limit;
    const extra = limit ? { limit } : {};
    return status === 'erased'
      ? { status: 'erased', ...extra }
      : { status: 'ok', accepted: records.length, ...extra };
  }

  async limit(limits: RateLimits): Promise<LimitResult> {
    const plan = await this.#limits.plan(limits, -1, '');
    const r: Limited | LimitState = await this.#limits.countAll(plan);
    return 'status' in r ? r : { status: 'allowed', limit: r };
  }

  async eraseUser(userId: string): Promise<void> {
    const k = this.#keys.user(userId);
    await this.#redis.dlEraseUser(
      k.tombstone,
      k.stream,
      TOMBSTONE_SECONDS,
      encodeRecord({ kind: 'erase-user', userId }),
    );
  }

  async forgetUser(deviceId: string, userId: string): Promise<void> {
    const k = this.#keys.device(deviceId);
    await this.#redis.dlForgetUser(
      k.lastLinked,
      k.stream,
      userId,
      encodeRecord({ kind: 'erase-user', userId }),
    );
  }

  async dailySalt(day: string): Promise<Buffer> {
    const cached = this.#salts.get(day);
    if (cached) return cached;
    const fresh = randomBytes(32);
    const key = this.#saltKey;
    // The first process to ask sets it (sealed under the key when there is one); the others read it.
    const stored = await this.#redis.dlSetOnce(
      this.#keys.salt(day, this.#saltKeyId),
      key ? sealSalt(key, day, fresh) : fresh.toString('base64'),
      Math.ceil(saltLifetimeMs(day) / 1000),
    );
    const salt = key ? openSalt(key, day, stored) : Buffer.from(stored, 'base64');
    // Only a few days are ever asked for; keep the cache from growing in a long-running process.
    if (this.#salts.size >= 4) this.#salts.clear();
    this.#salts.set(day, salt);
    return salt;
  }
}
