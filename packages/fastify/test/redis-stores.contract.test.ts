import { hasServices, testEnv } from '@devicelink/test-env';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { deviceAdminContract } from './device-admin.contract.js';
import { deviceIdentityContract } from './device-identity.contract.js';
import { deviceStoreContract } from './device-store.contract.js';
import { partitionLeasesContract } from './partition-leases.contract.js';
import { queueConsumerContract } from './queue-consumer.contract.js';
import { rateLimitContract } from './rate-limits.contract.js';
import { redisHarness, singleNode } from './redis-harness.js';

describe.runIf(hasServices('redis'))('Redis single node', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = singleNode(testEnv.redisUrl!);
  });
  afterAll(async () => {
    await redis.quit();
  });
  deviceStoreContract(
    'Redis single node',
    redisHarness(() => redis),
  );
  deviceAdminContract(
    'Redis single node',
    redisHarness(() => redis),
  );
  deviceIdentityContract(
    'Redis single node',
    redisHarness(() => redis),
  );
  queueConsumerContract(
    'Redis single node',
    redisHarness(() => redis),
  );
  rateLimitContract(
    'Redis single node',
    redisHarness(() => redis),
  );
  partitionLeasesContract(
    'Redis single node',
    redisHarness(() => redis),
  );
});
