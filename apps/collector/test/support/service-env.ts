/**
 * What the Redis + Postgres suites build on the services of a test (`services` of
 * `@devicelink/test-env/fixtures`): a collector's variables, the keys under the prefix, row counts.
 */
import type { TestServices } from '@devicelink/test-env';
import { scanKeys } from '@devicelink/test-env';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { ADMIN_TOKEN } from './collector.js';

/** A collector on `services` with the admin token and a rate limit no test reaches, then `extra`. */
export function serviceEnv(
  services: TestServices,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { ...services.env, ADMIN_TOKEN, RATE_LIMIT_PER_MINUTE: '1000000', ...extra };
}

/** A key, its Redis type, and what it holds (strings, hashes, sorted sets with scores, streams). */
export interface StoredKey {
  key: string;
  type: string;
  content: unknown;
}

/** Every key under `prefix` and what it holds. */
export async function storedKeys(redis: Redis, prefix: string): Promise<StoredKey[]> {
  const out: StoredKey[] = [];
  for (const key of await scanKeys(redis, `${prefix}*`)) {
    const type = await redis.type(key);
    let content: unknown = null;
    if (type === 'string') content = await redis.get(key);
    else if (type === 'hash') content = await redis.hgetall(key);
    else if (type === 'zset') content = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'stream') content = await redis.xrange(key, '-', '+');
    out.push({ key, type, content });
  }
  return out;
}

/** The number of rows `query` answers. */
export async function countRows(client: pg.Client, query: string, params: unknown[] = []): Promise<number> {
  return (await client.query(`select count(*)::int as n from (${query}) as q`, params)).rows[0].n;
}
