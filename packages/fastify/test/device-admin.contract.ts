/**
 * The DeviceAdmin contract (docs/protocol.md, Erasure): the live-session read and erasure, written
 * once and run against every implementation.
 */
import { describe, expect, it } from 'vitest';
import {
  drain,
  freshHarnesses,
  type MakeHarness,
  newDeviceId,
  pageview,
  touchInput,
} from './store-harness.js';

/** Registers the DeviceAdmin contract for one implementation. */
export function deviceAdminContract(name: string, make: MakeHarness): void {
  describe(`DeviceAdmin contract: ${name}`, () => {
    const fresh = freshHarnesses(make);
    it('the live-session read answers null for a device never seen', async () => {
      const { store } = await fresh();
      expect(await store.session(newDeviceId())).toBeNull();
    });

    it('erasure removes every key of the device, queues an erase record last and refuses later work', async () => {
      const h = await fresh();
      const { store } = h;
      const deviceId = newDeviceId();
      await store.touch(touchInput(deviceId, [pageview(), pageview()]));
      await store.recordEdge({ kind: 'cookie', deviceId, otherId: newDeviceId() });
      await store.convert(deviceId, 'u1');
      await store.touch(touchInput(deviceId));
      expect((await h.keysOf(deviceId))?.length ?? 1).toBeGreaterThan(0);
      await store.erase(deviceId);
      const left = await h.keysOf(deviceId);
      if (left) expect(left.filter((k) => !k.includes(':t:'))).toEqual([]);
      expect(await store.session(deviceId)).toBeNull();
      expect(await store.touch(touchInput(deviceId))).toEqual({ status: 'erased' });
      expect(await store.convert(deviceId, 'u1')).toEqual({ status: 'erased', sessionId: null });
      await store.recordEdge({ kind: 'cookie', deviceId, otherId: newDeviceId() });
      const kinds = (await drain(store, deviceId)).map((e) => e.record.kind);
      expect(kinds).toEqual(['pageview', 'pageview', 'edge', 'link', 'pageview', 'erase']);
    });

    it('user erasure queues an erase-user record behind the user page views and refuses later ones and links', async () => {
      const { store } = await fresh();
      const userId = `user-${newDeviceId()}`;
      const record = (eventId: string) => ({
        kind: 'pageview' as const,
        eventId,
        deviceId: null,
        userId,
        sessionId: null,
        source: null,
        visitorHash: null,
        userAgent: null,
        url: 'https://shop.example/account',
        referrer: null,
        clientTs: null,
        serverTs: Date.now(),
      });
      expect(await store.queueUserEvents(userId, [record('e1'), record('e2')])).toEqual({
        status: 'ok',
        accepted: 2,
      });
      await store.eraseUser(userId);
      expect(await store.queueUserEvents(userId, [record('e3')])).toEqual({ status: 'erased' });
      const deviceId = newDeviceId();
      await store.touch(touchInput(deviceId));
      expect(await store.convert(deviceId, userId)).toEqual({ status: 'erased', sessionId: null });
      // The device itself is untouched: its live session goes on.
      expect(await store.session(deviceId)).not.toBeNull();
      const mine = (await drain(store, userId)).filter(
        (e) => e.record.kind === 'erase-user' || (e.record.kind === 'pageview' && e.record.userId === userId),
      );
      expect(mine.map((e) => e.record.kind)).toEqual(['pageview', 'pageview', 'erase-user']);
      expect(mine[2]?.record).toMatchObject({ kind: 'erase-user', userId });
    });

    it('forgetting a user on a shared device queues erase-user behind its entries and keeps the device', async () => {
      const h = await fresh();
      const { store } = h;
      const deviceId = newDeviceId();
      await store.touch(touchInput(deviceId));
      await store.convert(deviceId, 'u-gone');
      await store.forgetUser(deviceId, 'u-gone');
      // The device forgot its last linked user: the same user again would link anew (were it not erased).
      expect(await store.convert(deviceId, 'u-gone')).toMatchObject({ status: 'linked' });
      await store.touch(touchInput(deviceId));
      expect(await store.session(deviceId)).not.toBeNull();
      const kinds = (await drain(store, deviceId))
        .filter((e) => e.record.kind !== 'erase-user' || e.record.userId === 'u-gone')
        .map((e) => e.record.kind);
      expect(kinds).toEqual(['pageview', 'link', 'erase-user', 'link', 'pageview']);
    });
  });
}
