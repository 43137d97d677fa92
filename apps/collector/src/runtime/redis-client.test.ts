import { hasServices, testEnv } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { evictionWarning } from './redis-client.js';

describe.runIf(hasServices('redis'))('eviction policy check', () => {
  it('names a policy that could evict queue entries and accepts noeviction or volatile-*', async () => {
    const redis = new Redis(testEnv.redisUrl!);
    try {
      const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
      const warning = await evictionWarning(redis);
      if (policy === 'noeviction' || policy!.startsWith('volatile-')) expect(warning).toBeNull();
      else expect(warning).toContain(`"${policy}"`);
    } finally {
      await redis.quit();
    }
  });
});
