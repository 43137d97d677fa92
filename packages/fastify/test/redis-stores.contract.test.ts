import { hasServices, testEnv } from '@devicelink/test-env';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { eventQueueContract } from './event-queue.contract.js';
import { redisHarness, singleNode } from './redis-harness.js';
import { sessionStoreContract } from './session-store.contract.js';

describe.runIf(hasServices('redis'))('Redis single node', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = singleNode(testEnv.redisUrl!);
  });
  afterAll(async () => {
    await redis.quit();
  });
  sessionStoreContract(
    'Redis single node',
    redisHarness(() => redis),
  );
  eventQueueContract(
    'Redis single node',
    redisHarness(() => redis),
  );
});
