/**
 * The counter store of @fastify/rate-limit (its `store` option), with key names of our own: the
 * plugin's stores name a route's counters `<nameSpace><method><url>-<key>`, and a limiter made with
 * `createRateLimit` (no route) `<nameSpace>undefinedundefined-<key>`. Here a route's counter is
 * `<prefix>rl:<METHOD>:<url>:<key>` (`dl:rl:POST:/v1/events:d:…`) and a route-less one
 * `<prefix>rl:<key>` (`dl:rl:address:…`, the key generator names it). Counters are fixed windows:
 * Redis (one Lua script, INCR then PEXPIRE on the first hit) or a bounded in-process map.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RedisClient } from '../runtime/redis-client.js';
import { PROBE_TIMEOUT_MS, within } from './promise-deadline.js';

type Incr = FastifyRateLimitStore['incr'];
type Callback = Parameters<Incr>[1];

/** INCR the counter, start its window on the first hit; returns the count and the ms left. */
const INCR_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { current, ttl }
`;

/** Most counters the in-process store keeps; past it, expired ones go, then the oldest. */
const MEMORY_MAX_KEYS = 100_000;

interface RateLimitRedis {
  dlRateLimitIncr(key: string, windowMs: number): Promise<[number, number]>;
}

type Counter = (key: string, windowMs: number) => Promise<{ current: number; ttl: number }>;

function redisCounter(redis: RedisClient): Counter {
  if (!('dlRateLimitIncr' in redis))
    redis.defineCommand('dlRateLimitIncr', { numberOfKeys: 1, lua: INCR_SCRIPT });
  const client = redis as unknown as RateLimitRedis;
  return async (key, windowMs) => {
    // An unreachable Redis fails the count within a second (ioredis would hold it through its
    // reconnects); the plugin then lets the request through (`skipOnError`).
    const [current, ttl] = await within(client.dlRateLimitIncr(key, windowMs), PROBE_TIMEOUT_MS);
    return { current, ttl };
  };
}

function memoryCounter(): Counter {
  const counters = new Map<string, { count: number; resetAt: number }>();
  return async (key, windowMs) => {
    const now = Date.now();
    let entry = counters.get(key);
    if (!entry || entry.resetAt <= now) {
      if (counters.size >= MEMORY_MAX_KEYS) {
        for (const [k, v] of counters) if (v.resetAt <= now) counters.delete(k);
        if (counters.size >= MEMORY_MAX_KEYS) counters.delete(counters.keys().next().value as string);
      }
      entry = { count: 0, resetAt: now + windowMs };
      counters.delete(key);
      counters.set(key, entry);
    }
    entry.count += 1;
    return { current: entry.count, ttl: entry.resetAt - now };
  };
}

class NamedStore implements FastifyRateLimitStore {
  constructor(
    private readonly counter: Counter,
    private readonly prefix: string,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number): void {
    this.counter(this.prefix + key, timeWindow).then(
      (result) => callback(null, result),
      (err: unknown) => callback(err as Error),
    );
  }

  // The plugin's types say route options; at runtime it passes its merged parameters, whose
  // `routeInfo` is the route (method, url) or `{}` for a limiter made by `createRateLimit`.
  child(params: object): FastifyRateLimitStore {
    const info = (params as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo;
    const { method, url } = info ?? {};
    const scope = typeof url === 'string' ? `${String(method)}:${url}:` : '';
    return new NamedStore(this.counter, this.prefix + scope);
  }
}

/**
 * The store class to pass as @fastify/rate-limit's `store`: counters in `redis` under
 * `<keyPrefix>rl:`, or in process memory when `redis` is null (the embedded collector).
 *
 * @example
 * await app.register(fastifyRateLimit, { global: false, store: rateLimitStore(redis, 'dl:') });
 */
export function rateLimitStore(redis: RedisClient | null, keyPrefix: string): FastifyRateLimitStoreCtor {
  const counter = redis ? redisCounter(redis) : memoryCounter();
  const prefix = `${keyPrefix}rl:`;
  return class extends NamedStore {
    constructor() {
      super(counter, prefix);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}
