/**
 * The whole flow in Chromium against the collector on Redis and Postgres (a fresh database, a fresh
 * Redis key prefix), as a deployment runs it.
 */
import { createTestDatabase, hasServices, testEnv, uniquePrefix } from '@devicelink/test-env';
import { describe } from 'vitest';
import { deviceJourney } from './support/device-journey.js';

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('the demo on Redis and Postgres', () => {
  deviceJourney('redis', async () => {
    const db = await createTestDatabase('e2e');
    return {
      env: { REDIS_URL: testEnv.redisUrl!, DATABASE_URL: db.url, REDIS_KEY_PREFIX: uniquePrefix('e2e') },
      cleanup: () => db.drop(),
    };
  });
});
