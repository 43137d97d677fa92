/**
 * Fixed-window counters of the collector's own (the failed-authentication limit of the admin routes,
 * `auth/auth-failures.ts`): in Redis under `<prefix>rl:<name>` (one Lua script, INCR then PEXPIRE on
 * the first hit, so every collector on the store shares a count) or, without Redis, in a bounded
 * in-process map (the embedded collector). The ingest limits are counted by the store with the page
 * views instead (`@devicelink/fastify`'s `rateLimit`).
 */
import type { RedisClient } from '../runtime/redis-client.js';
import { PROBE_TIMEOUT_MS, within } from './promise-deadline.js';

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

interface CounterRedis {
  dlWindowIncr(key: string, windowMs: number): Promise<[number, number]>;
}

/** Counts one hit of `name` in its window; resolves with the count so far and the ms left. */
export type WindowCounter = (name: string, windowMs: number) => Promise<{ current: number; ttl: number }>;

function redisCounter(redis: RedisClient, prefix: string): WindowCounter {
  if (!('dlWindowIncr' in redis)) redis.defineCommand('dlWindowIncr', { numberOfKeys: 1, lua: INCR_SCRIPT });
  const client = redis as unknown as CounterRedis;
  return async (name, windowMs) => {
    // An unreachable Redis fails the count within a second (ioredis would hold it through its
    // reconnects); the caller then lets the request through.
    const [current, ttl] = await within(client.dlWindowIncr(prefix + name, windowMs), PROBE_TIMEOUT_MS);
    return { current, ttl };
  };
}

function memoryCounter(): WindowCounter {
  const counters = new Map<string, { count: number; resetAt: number }>();
  return async (name, windowMs) => {
    const now = Date.now();
    let entry = counters.get(name);
    if (!entry || entry.resetAt <= now) {
      if (counters.size >= MEMORY_MAX_KEYS) {
        for (const [k, v] of counters) if (v.resetAt <= now) counters.delete(k);
        if (counters.size >= MEMORY_MAX_KEYS) counters.delete(counters.keys().next().value as string);
      }
      entry = { count: 0, resetAt: now + windowMs };
      counters.delete(name);
      counters.set(name, entry);
    }
    entry.count += 1;
    return { current: entry.count, ttl: entry.resetAt - now };
  };
}

/**
 * Counters in `redis` under `<keyPrefix>rl:`, or in process memory when `redis` is null.
 *
 * @example
 * const count = windowCounter(redis, 'dl:');
 * const { current, ttl } = await count('auth:Xk3…', 60_000);
 */
export function windowCounter(redis: RedisClient | null, keyPrefix: string): WindowCounter {
  return redis ? redisCounter(redis, `${keyPrefix}rl:`) : memoryCounter();
}
