/**
 * The EventQueue contract (docs/protocol.md, Persistence), written once and run against every implementation.
 */

import type { QueueRecord } from '@devicelink/protocol';
import { partitionOf, uuidv7 } from '@devicelink/protocol';
import { waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import { drain, freshHarnesses, type MakeHarness, newDeviceId, userPageview } from './store-harness.js';

/** Registers the QueueConsumer contract for one implementation. */
export function queueConsumerContract(name: string, make: MakeHarness): void {
  describe(`QueueConsumer contract: ${name}`, () => {
    const fresh = freshHarnesses(make);

    it('append resolves with every record on the key’s partition, in order and intact', async () => {
      const { store: queue, append } = await fresh({ partitions: 8 });
      expect(queue.partitions).toBe(8);
      const key = 'user-42';
      const records: QueueRecord[] = [
        userPageview(key),
        { kind: 'link', deviceId: newDeviceId(), userId: key, ts: 1, sessionId: null },
        { kind: 'link', deviceId: newDeviceId(), userId: key, ts: 2, sessionId: uuidv7() },
        { kind: 'edge', edge: 'cookie', deviceId: newDeviceId(), otherId: newDeviceId(), ts: 3 },
        { kind: 'erase', deviceId: newDeviceId(), ts: 4 },
      ];
      await append(key, records);
      const partition = partitionOf(key, 8);
      expect(await queue.depth(partition)).toBe(records.length);
      const entries = await drain(queue, key);
      expect(entries.map((e) => e.record)).toEqual(records);
      expect(entries.every((e) => e.partition === partition)).toBe(true);
    });

    it('reading an empty partition answers nothing', async () => {
      const { store: queue } = await fresh();
      expect(await queue.read(0, 'c1', 10)).toEqual([]);
      expect(await queue.reclaim(0, 'c1', 0, 10)).toEqual([]);
      expect(await queue.depth(0)).toBe(0);
    });

    it('a read entry goes to one consumer and stays counted until it is acknowledged', async () => {
      const { store: queue, append } = await fresh();
      const key = 'user-a';
      const p = partitionOf(key, queue.partitions);
      await append(key, [userPageview(key), userPageview(key)]);
      const got = await queue.read(p, 'c1', 10);
      expect(got).toHaveLength(2);
      expect(await queue.read(p, 'c2', 10)).toEqual([]);
      expect(await queue.depth(p)).toBe(2);
      await queue.ack(p, [got[0]!.id]);
      expect(await queue.depth(p)).toBe(1);
      await queue.ack(p, [got[1]!.id]);
      expect(await queue.depth(p)).toBe(0);
    });

    it('entries of a consumer that dies before ack reach another consumer through reclaim', async () => {
      const h = await fresh();
      const { store: queue, append } = h;
      const key = 'user-b';
      const p = partitionOf(key, queue.partitions);
      await append(key, [userPageview(key, 'https://a/1'), userPageview(key, 'https://a/2')]);
      const lost = await queue.read(p, 'dead-consumer', 10);
      expect(lost).toHaveLength(2);
      // Not yet idle long enough: nobody takes them over.
      expect(await queue.reclaim(p, 'rescuer', 60_000, 10)).toEqual([]);
      h.passTime(200);
      const rescued = await waitFor(
        async () => {
          const r = await queue.reclaim(p, 'rescuer', 100, 10);
          return r.length > 0 ? r : null;
        },
        { what: 'reclaim' },
      );
      expect(rescued.map((e) => e.id)).toEqual(lost.map((e) => e.id));
      expect(rescued.map((e) => e.record)).toEqual(lost.map((e) => e.record));
      await queue.ack(
        p,
        rescued.map((e) => e.id),
      );
      expect(await queue.depth(p)).toBe(0);
      h.passTime(200);
      expect(await queue.reclaim(p, 'other', 0, 10)).toEqual([]);
    });

    it('nothing unacknowledged is ever trimmed, however much is appended', async () => {
      const { store: queue, append } = await fresh({ partitions: 2 });
      const key = 'user-c';
      const p = partitionOf(key, 2);
      const total = 3000;
      for (let i = 0; i < total; i += 500) {
        await append(
          key,
          Array.from({ length: 500 }, (_, j) => userPageview(key, `https://a/${i + j}`)),
        );
      }
      const pending = await queue.read(p, 'c1', 1000);
      await queue.ack(
        p,
        pending.slice(0, 400).map((e) => e.id),
      );
      expect(await queue.depth(p)).toBe(total - 400);
      const rest = await drain(queue, key, 'c2');
      expect(rest).toHaveLength(total - 1000);
      // Everything still unacknowledged (pending with c1 and c2) is there to take over.
      const reclaimed = await queue.reclaim(p, 'c3', 0, 10_000);
      const urls = new Set(reclaimed.map((e) => (e.record.kind === 'pageview' ? e.record.url : '')));
      expect(reclaimed).toHaveLength(total - 400);
      expect(urls.size).toBe(total - 400);
    });

    it('acknowledging an unknown or repeated id changes nothing', async () => {
      const { store: queue, append } = await fresh();
      const key = 'user-d';
      const p = partitionOf(key, queue.partitions);
      await append(key, [userPageview(key)]);
      const [e] = await queue.read(p, 'c1', 1);
      await queue.ack(p, [e!.id]);
      await queue.ack(p, [e!.id]);
      await queue.ack(p, []);
      expect(await queue.depth(p)).toBe(0);
    });

    it('oldest answers when the oldest unacknowledged entry was queued, read or not, and null when empty', async () => {
      const { store: queue, append } = await fresh();
      const key = 'user-oldest';
      const p = partitionOf(key, queue.partitions);
      expect(await queue.oldest(p)).toBeNull();
      const before = Date.now();
      await append(key, [userPageview(key), userPageview(key)]);
      const first = await queue.oldest(p);
      // Redis stamps entries with its own clock: allow a little skew against this process's.
      expect(first).toBeGreaterThanOrEqual(before - 1_000);
      expect(first).toBeLessThanOrEqual(Date.now() + 1_000);
      const read = await queue.read(p, 'c1', 10);
      expect(await queue.oldest(p)).toBe(first);
      await queue.ack(
        p,
        read.map((e) => e.id),
      );
      expect(await queue.oldest(p)).toBeNull();
    });

    it('removeConsumer keeps a consumer holding pending entries and removes it once they are acknowledged', async () => {
      const { store: queue, append } = await fresh();
      const key = 'user-consumer';
      const p = partitionOf(key, queue.partitions);
      await append(key, [userPageview(key)]);
      const held = await queue.read(p, 'holder', 10);
      expect(held).toHaveLength(1);
      expect(await queue.removeConsumer(p, 'holder')).toBe(false);
      await queue.ack(
        p,
        held.map((e) => e.id),
      );
      expect(await queue.removeConsumer(p, 'holder')).toBe(true);
    });
  });
}
