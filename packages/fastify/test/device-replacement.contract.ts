/**
 * The replacement contract of DeviceStore (docs/protocol.md, Replacement marker), run against every
 * implementation: a marker replaces only an id the store has never seen, queues one boundary and no
 * edge, and answers the same pair again without a second record.
 */

import type { QueueRecord } from '@devicelink/protocol';
import { describe, expect, it } from 'vitest';
import { drain, freshHarnesses, type MakeHarness, newDeviceId, touchInput } from './store-harness.js';

/** Registers the replacement contract for one implementation. */
export function deviceReplacementContract(name: string, make: MakeHarness): void {
  describe(`DeviceStore replacement contract: ${name}`, () => {
    const fresh = freshHarnesses(make);
    const records = async (h: { store: Parameters<typeof drain>[0] }, id: string): Promise<QueueRecord[]> =>
      (await drain(h.store, id)).map((e) => e.record).filter((r) => r.kind !== 'pageview');

    it('an unknown new id replaces the old one with one boundary record and no edge', async () => {
      const h = await fresh();
      const [next, old] = [newDeviceId(), newDeviceId()];
      expect(await h.store.replaceDevice({ deviceId: next, replacedId: old })).toEqual({
        status: 'replaced',
      });
      const queued = await records(h, next);
      expect(queued).toEqual([{ kind: 'boundary', deviceId: next, otherId: old, ts: expect.any(Number) }]);
      expect(Math.abs((queued[0] as { ts: number }).ts - Date.now())).toBeLessThan(60_000);
    });

    it('the same replacement again (a parallel request) answers replaced and queues nothing more', async () => {
      const h = await fresh();
      const [next, old] = [newDeviceId(), newDeviceId()];
      const both = await Promise.all(
        [1, 2, 3].map(() => h.store.replaceDevice({ deviceId: next, replacedId: old })),
      );
      expect(both.every((r) => r.status === 'replaced')).toBe(true);
      // The new id's session, started by the request that replaced, does not undo the answer.
      expect((await h.store.touch(touchInput(next))).status).toBe('ok');
      expect(await h.store.replaceDevice({ deviceId: next, replacedId: old })).toEqual({
        status: 'replaced',
      });
      expect((await records(h, next)).filter((r) => r.kind === 'boundary')).toHaveLength(1);
    });

    it('a replaced id cannot replace a second, different old id', async () => {
      const h = await fresh();
      const [next, old, other] = [newDeviceId(), newDeviceId(), newDeviceId()];
      await h.store.replaceDevice({ deviceId: next, replacedId: old });
      expect(await h.store.replaceDevice({ deviceId: next, replacedId: other })).toEqual({ status: 'known' });
      expect((await records(h, next)).filter((r) => r.kind === 'boundary')).toHaveLength(1);
    });

    it('a new id with a live session, an identity record, a tombstone, a link or an edge is known', async () => {
      const h = await fresh();
      const old = newDeviceId();
      const ids = Array.from({ length: 5 }, newDeviceId);
      await h.store.touch(touchInput(ids[0]!));
      await h.store.noteMinted(ids[1]!, 'place-key');
      await h.store.erase(ids[2]!);
      await h.store.convert(ids[3]!, 'user-1');
      await h.store.recordEdge({ kind: 'cookie', deviceId: ids[4]!, otherId: newDeviceId() });
      for (const id of ids) {
        expect(await h.store.replaceDevice({ deviceId: id, replacedId: old })).toEqual({ status: 'known' });
        expect((await records(h, id)).filter((r) => r.kind === 'boundary')).toEqual([]);
      }
    });
  });
}
