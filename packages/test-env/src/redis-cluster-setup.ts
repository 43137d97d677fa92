/**
 * The vitest global setup of the suites that test on a Redis Cluster: starts one (`startRedisCluster`)
 * for the project and hands its seeds to the tests through `inject('redisClusterNodes')`, null when
 * Redis is not available (the Cluster tests then skip with a line saying so).
 *
 * @example
 * // test/redis-cluster.global-setup.ts
 * export default redisClusterGlobalSetup('fastify');
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './redis-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated `host:port` seeds of a Redis Cluster, or null when none is available. */
    redisClusterNodes: string | null;
  }
}

/** A global setup that starts a Cluster labelled `label` and stops it after the project's run. */
export function redisClusterGlobalSetup(
  label: string,
): (project: TestProject) => Promise<(() => Promise<void>) | undefined> {
  return async (project) => {
    const cluster = await startRedisCluster(label);
    project.provide('redisClusterNodes', cluster?.seeds ?? null);
    return cluster?.stop;
  };
}
