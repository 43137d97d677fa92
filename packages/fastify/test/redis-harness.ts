/**
 * Harnesses for the Redis stores: a fresh key prefix per store, on one shared client per test file.
 */
import { testEnv, uniquePrefix } from '@devicelink/test-env';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createRedisStore } from '../src/redis/redis-store.js';
import { harnessOf, type MakeHarness } from './store-harness.js';

/** A single-node client on `url`. */
const singleNode = (url: string): Redis => new Redis(url, { maxRetriesPerRequest: 3 });

/**
 * A single-node client on the run's Redis for the enclosing `describe`: opened in `beforeAll`, closed in
 * `afterAll` after deleting every key under the prefixes `prefixes()` names then. Call the result inside tests.
 */
export function useSingleNode(prefixes: () => string[] = () => []): () => Redis {
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = singleNode(testEnv.redisUrl!);
  });
  afterAll(async () => {
    if (!redis) return;
    for (const p of prefixes()) for (const key of await scanPrefix(redis, p)) await redis.del(key);
    await redis.quit();
  });
  return () => {
    if (!redis) throw new Error('the Redis client opens in beforeAll: use it inside a test');
    return redis;
  };
}

/**
 * A Cluster client on comma-separated `host:port` seeds, auto-pipelining as the collector's does: the
 * contract suites then prove every script and queue command is grouped by the shard of its key.
 */
export const clusterClient = (seeds: string): Cluster =>
  new Cluster(
    seeds.split(',').map((s) => {
      const [host, port] = s.trim().split(':');
      return { host: host ?? '127.0.0.1', port: Number(port) };
    }),
    { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 3 } },
  );

/** Every key under `prefix` on every master (a Cluster scan goes node by node). */
export async function scanPrefix(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}

/** The salt key of the harnesses' stores: the contracts run with the daily salt sealed, as production does. */
const HARNESS_SALT_KEY = Buffer.alloc(32, 7);

/** Makes Redis harnesses on `redis`; each store gets its own prefix, deleted again on close. */
export function redisHarness(redis: () => Redis | Cluster): MakeHarness {
  return async (options = {}) => {
    const client = redis();
    const prefix = uniquePrefix('fx');
    const o = { saltKey: HARNESS_SALT_KEY, ...options };
    const store = await createRedisStore(client, { ...o, prefix });
    return harnessOf(store, {
      passTime() {},
      async keysOf(text) {
        return (await scanPrefix(client, prefix)).filter((k) => k.includes(text));
      },
      twin: () => createRedisStore(client, { ...o, prefix }),
      async close() {
        // Only this store's own keys: other tests share the server.
        for (const key of await scanPrefix(client, prefix)) await client.del(key);
      },
    });
  };
}
