/**
 * Robustness of the stores beyond the contract suites: an undecodable stream entry never blocks its
 * partition, and a call made only of duplicates never starts an empty session (memory and Redis).
 */
import { partitionOf } from '@devicelink/protocol';
import { hasServices, uniquePrefix, waitFor } from '@devicelink/test-env';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisKeys } from '../src/redis/redis-keys.js';
import type { PoisonEntry } from '../src/redis/redis-queue.js';
import { createRedisStore } from '../src/redis/redis-store.js';
import { redisHarness, scanPrefix, useSingleNode } from './redis-harness.js';
import {
  drain,
  type MakeHarness,
  memoryHarness,
  newDeviceId,
  pageview,
  type StoreHarness,
  touchInput,
} from './store-harness.js';

/** The duplicate-only rule, written once for every store (contract style). */
function duplicateOnlySuite(name: string, make: () => MakeHarness): void {
  describe(`duplicate-only touches: ${name}`, () => {
    const open: StoreHarness[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((h) => h.close()));
    });
    const fresh: MakeHarness = async (o) => {
      const h = await make()(o);
      open.push(h);
      return h;
    };

    it('a retry after conversion ended the session starts no 0-page session and queues nothing', async () => {
      const h = await fresh();
      const deviceId = newDeviceId();
      const event = pageview();
      const first = await h.store.touch(touchInput(deviceId, [event]));
      expect(first.status).toBe('ok');
      await h.store.convert(deviceId, 'user-1');
      expect(await h.store.session(deviceId)).toBeNull();
      await drain(h.store, deviceId);

      const retry = await h.store.touch(touchInput(deviceId, [event]));
      expect(retry).toEqual({ status: 'duplicate' });
      expect(await h.store.session(deviceId)).toBeNull();
      expect(await drain(h.store, deviceId)).toEqual([]);

      // The next real page view starts the session, with its own start time and a count of 1.
      const next = await h.store.touch(touchInput(deviceId));
      expect(next).toMatchObject({ status: 'ok', accepted: 1, newSession: true });
      if (next.status !== 'ok') return;
      expect(next.session.pagesVisited).toBe(1);
      expect(next.session.sessionId).not.toBe(first.status === 'ok' ? first.session.sessionId : '');
    });

    it('a retry after the idle timeout starts no session, a duplicate within a live session still refreshes it', async () => {
      const h = await fresh({ sessionIdleSeconds: 1, sessionMaxSeconds: 60 });
      const deviceId = newDeviceId();
      const event = pageview();
      await h.store.touch(touchInput(deviceId, [event]));
      const live = await h.store.touch(touchInput(deviceId, [event]));
      expect(live).toMatchObject({ status: 'ok', accepted: 0, newSession: false });
      if (live.status === 'ok') expect(live.session.pagesVisited).toBe(1);

      h.passTime(1500);
      await waitFor(async () => (await h.store.session(deviceId)) === null, { what: 'idle expiry' });
      expect(await h.store.touch(touchInput(deviceId, [event]))).toEqual({ status: 'duplicate' });
      expect(await h.store.session(deviceId)).toBeNull();
    });

    it('a call mixing a duplicate and a fresh event after the session ended starts a session counting only the fresh one', async () => {
      const h = await fresh();
      const deviceId = newDeviceId();
      const old = pageview();
      await h.store.touch(touchInput(deviceId, [old]));
      await h.store.convert(deviceId, 'user-1');
      const mixed = await h.store.touch(touchInput(deviceId, [old, pageview()]));
      expect(mixed).toMatchObject({ status: 'ok', accepted: 1, newSession: true });
      expect((await h.store.session(deviceId))?.pagesVisited).toBe(1);
    });
  });
}

duplicateOnlySuite('memory', () => memoryHarness);

describe.runIf(hasServices('redis'))('Redis queue robustness', () => {
  const redis = useSingleNode();

  duplicateOnlySuite('Redis single node', () => redisHarness(redis));

  describe('undecodable stream entries', () => {
    const prefixes: string[] = [];
    afterEach(async () => {
      for (const prefix of prefixes.splice(0)) {
        for (const key of await scanPrefix(redis(), prefix)) await redis().del(key);
      }
    });

    async function setup() {
      const prefix = uniquePrefix('poison');
      prefixes.push(prefix);
      const dropped: PoisonEntry[] = [];
      const stores = await createRedisStore(redis(), {
        prefix,
        partitions: 4,
        onPoisonEntry: (entry) => dropped.push(entry),
      });
      const keys = new RedisKeys(prefix, 4);
      return { stores, keys, dropped };
    }

    it('an entry with bad JSON is acknowledged, deleted and reported, and the entries behind it are delivered', async () => {
      const { stores, keys, dropped } = await setup();
      const deviceId = newDeviceId();
      const partition = partitionOf(deviceId, 4);
      const stream = keys.stream(partition);
      // Group first, so the raw entries are unread entries of the group like any other.
      expect(await stores.read(partition, 'c1', 10)).toEqual([]);
      const badId = await redis().xadd(stream, '*', 'r', '{not json');
      await stores.touch(touchInput(deviceId, [pageview(), pageview()]));

      const entries = await stores.read(partition, 'c1', 10);
      expect(entries.map((e) => e.record.kind)).toEqual(['pageview', 'pageview']);
      expect(dropped).toHaveLength(1);
      expect(dropped[0]).toMatchObject({ partition, id: badId, fields: ['r', '{not json'] });
      expect(dropped[0]!.error).toBeInstanceOf(Error);
      expect(await redis().xrange(stream, badId!, badId!)).toEqual([]);
      expect(await stores.depth(partition)).toBe(2);
    });

    it('entries of an unknown kind or missing a required field never come back through a reclaim', async () => {
      const { stores, keys, dropped } = await setup();
      const partition = 1;
      const stream = keys.stream(partition);
      await stores.read(partition, 'c1', 10);
      await redis().xadd(stream, '*', 'r', JSON.stringify({ kind: 'from-the-future', x: 1 }));
      await redis().xadd(stream, '*', 'r', JSON.stringify({ kind: 'pageview', url: '/no-id' }), 't', '1');
      await redis().xadd(stream, '*', 'r', JSON.stringify({ kind: 'link', deviceId: 'd'.repeat(16) }));

      expect(await stores.read(partition, 'c1', 10)).toEqual([]);
      expect(dropped.map((e) => e.error.message)).toEqual([
        expect.stringContaining('from-the-future'),
        'pageview record without eventId',
        'link record without userId',
      ]);
      // Nothing is left pending for another consumer to trip over.
      expect(await stores.reclaim(partition, 'c2', 0, 10)).toEqual([]);
      expect(await stores.depth(partition)).toBe(0);
    });

    it('a poison entry left pending by a dead consumer is dropped by the reclaim', async () => {
      const { stores, keys, dropped } = await setup();
      const partition = 2;
      const stream = keys.stream(partition);
      await stores.read(partition, 'c1', 10);
      await redis().xadd(stream, '*', 'r', '[]');
      // An older version's consumer read it raw and died before acknowledging.
      await redis().xreadgroup('GROUP', 'persist', 'dead', 'COUNT', 10, 'STREAMS', stream, '>');
      expect(await stores.reclaim(partition, 'c2', 0, 10)).toEqual([]);
      expect(dropped).toHaveLength(1);
      expect(await stores.depth(partition)).toBe(0);
    });

    it('oldest gives the queue time of the first entry not yet acknowledged, read or not', async () => {
      const { stores } = await setup();
      const deviceId = newDeviceId();
      const partition = partitionOf(deviceId, 4);
      const queue = stores as typeof stores & { oldest(p: number): Promise<number | null> };
      expect(await queue.oldest(partition)).toBeNull();
      const before = Date.now();
      await stores.touch(touchInput(deviceId));
      const first = await queue.oldest(partition);
      expect(first).not.toBeNull();
      // Redis and this process share a clock here; allow a little skew.
      expect(Math.abs(first! - before)).toBeLessThan(5_000);
      const read = await stores.read(partition, 'c1', 10);
      expect(await queue.oldest(partition)).toBe(first);
      await stores.ack(
        partition,
        read.map((e) => e.id),
      );
      expect(await queue.oldest(partition)).toBeNull();
    });
  });
});
