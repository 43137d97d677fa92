/**
 * The ioredis client of the configuration (one Redis or a Cluster), created here and passed to the
 * stores (they never create clients), plus the start-up check that Redis cannot evict queue entries.
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisConfig } from '../config/collector-config.js';

/** Either client; both run the stores' scripts. */
export type RedisClient = Redis | Cluster;

/** Connects to Redis or the Cluster of `config`. */
export function createRedisClient(config: RedisConfig): RedisClient {
  if (config.kind === 'single') {
    return new Redis(config.url, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  }
  return new Cluster(
    config.nodes.map((n) => ({ host: n.host, port: n.port })),
    // Auto-pipelining groups commands by the shard of their first key. The stores' scripts are defined
    // with a fixed key count, so their first argument is a key (with the key count first, a Cluster
    // pipelined scripts for keys on different shards together and they failed).
    { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 3 } },
  );
}

/**
 * A warning when `maxmemory-policy` could evict queue entries (anything but `noeviction` or
 * `volatile-*`: the queue's streams have no TTL, so volatile policies never pick them), else null.
 * Managed Redis often disables CONFIG: then nothing can be said and nothing is warned.
 */
export async function evictionWarning(client: RedisClient): Promise<string | null> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    let policy: string | undefined;
    try {
      const reply = (await node.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
      policy = reply[1];
    } catch {
      return null;
    }
    if (policy && policy !== 'noeviction' && !policy.startsWith('volatile-')) {
      return `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict queued events before they reach Postgres. Set maxmemory-policy noeviction (or a volatile-* policy).`;
    }
  }
  return null;
}
