/**
 * Vitest global setup: a three-node Redis Cluster for the collector Cluster tests (see
 * `startRedisCluster` in @devicelink/test-env). Seeds reach tests through `inject('redisClusterNodes')`,
 * null when Redis is not available (the Cluster tests then skip with a line saying so).
 */
import { startRedisCluster } from '@devicelink/test-env';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated `host:port` seeds of a Redis Cluster, or null when none is available. */
    redisClusterNodes: string | null;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const cluster = await startRedisCluster('collector');
  project.provide('redisClusterNodes', cluster?.seeds ?? null);
  return cluster?.stop;
}
