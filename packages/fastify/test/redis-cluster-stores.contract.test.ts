import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { eventQueueContract } from './event-queue.contract.js';
import { clusterClient, redisHarness } from './redis-harness.js';
import { sessionStoreContract } from './session-store.contract.js';

// Seeds of the three-node cluster started by redis-cluster.global-setup.ts (null: skipped, it said why).
const seeds = inject('redisClusterNodes');

describe.runIf(seeds !== null)('Redis Cluster (three nodes)', () => {
  let cluster: Cluster;
  beforeAll(() => {
    cluster = clusterClient(seeds!);
  });
  afterAll(async () => {
    await cluster.quit();
  });
  sessionStoreContract(
    'Redis Cluster',
    redisHarness(() => cluster),
  );
  eventQueueContract(
    'Redis Cluster',
    redisHarness(() => cluster),
  );
});
