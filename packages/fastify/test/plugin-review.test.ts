/**
 * Regression tests of the plugin review: each test is named for what broke.
 */
import { hasServices, testEnv } from '@devicelink/test-env';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../src/index.js';
import { redisHarness, singleNode } from './redis-harness.js';
import { drain, type MakeHarness, newDeviceId } from './store-harness.js';

const memoryHarness: MakeHarness = async () => {
  const stores = createMemoryStores();
  return { ...stores, passTime() {}, keysOf: async () => null };
};

function aliasSuite(name: string, make: () => MakeHarness): void {
  describe(`alias records on ${name}`, () => {
    it('an alias whose alias id was erased is not queued (a stale cookie cannot bring an erased id back)', async () => {
      const h = await make()();
      try {
        const erased = newDeviceId();
        const header = newDeviceId();
        await h.sessions.erase(erased);
        await h.sessions.recordAlias(header, erased);
        const aliases = (await drain(h.queue, header)).filter((e) => e.record.kind === 'alias');
        expect(aliases).toEqual([]);
      } finally {
        await h.close();
      }
    });

    it('an alias whose device id was erased is not queued, and a live pair still is', async () => {
      const h = await make()();
      try {
        const erased = newDeviceId();
        const cookie = newDeviceId();
        await h.sessions.erase(erased);
        await h.sessions.recordAlias(erased, cookie);
        expect((await drain(h.queue, erased)).filter((e) => e.record.kind === 'alias')).toEqual([]);
        const header = newDeviceId();
        await h.sessions.recordAlias(header, cookie);
        const queued = (await drain(h.queue, header)).filter((e) => e.record.kind === 'alias');
        expect(queued.map((e) => e.record)).toMatchObject([
          { kind: 'alias', deviceId: header, aliasId: cookie },
        ]);
      } finally {
        await h.close();
      }
    });
  });
}

aliasSuite('the memory store', () => memoryHarness);

describe.runIf(hasServices('redis'))('Redis', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = singleNode(testEnv.redisUrl!);
  });
  afterAll(async () => {
    await redis.quit();
  });
  aliasSuite('Redis', () => redisHarness(() => redis));
});
