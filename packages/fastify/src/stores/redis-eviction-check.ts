/**
 * Start-up check (CONTRACT: Persistence): a `maxmemory-policy` that may evict keys without a TTL can
 * drop queued events, which live in streams without one. Safe: `noeviction` and the `volatile-*`
 * policies (they only evict keys that have an expiry).
 */
import type { Cluster, Redis } from 'ioredis';

/**
 * The eviction policy of every master that could evict queue entries, e.g. `['allkeys-lru']`; empty
 * when all are safe or when the server does not allow `CONFIG GET` (managed services), since nothing
 * can be said then.
 */
export async function riskyEvictionPolicies(redis: Redis | Cluster): Promise<string[]> {
  // `isCluster` rather than `instanceof`: ioredis is an optional peer and is never imported at run time.
  const nodes = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  const risky = new Set<string>();
  for (const node of nodes) {
    try {
      const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
      const policy = reply[1];
      if (policy && policy !== 'noeviction' && !policy.startsWith('volatile-')) risky.add(policy);
    } catch {
      // CONFIG is often renamed or disabled on managed Redis: no answer, no warning.
    }
  }
  return [...risky];
}
