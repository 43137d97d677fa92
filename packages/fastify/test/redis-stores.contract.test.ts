import { hasServices } from '@devicelink/test-env';
import { describe } from 'vitest';
import { redisHarness, useSingleNode } from './redis-harness.js';
import { storeContracts } from './store-contracts.js';

describe.runIf(hasServices('redis'))('Redis single node', () => {
  storeContracts('Redis single node', redisHarness(useSingleNode()));
});
