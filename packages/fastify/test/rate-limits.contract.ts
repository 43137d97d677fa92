/**
 * The rate-limit part of the DeviceStore contract (docs/protocol.md, Rate limits): the per-client and
 * per-address limits counted in the same step as `touch` and `queueUserEvents`, and alone by `limit`,
 * written once and run against every implementation.
 */
import { waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import type { RateLimits } from '../src/store/rate-limits.js';
import {
  drain,
  freshHarnesses,
  type MakeHarness,
  newDeviceId,
  pageview,
  touchInput,
} from './store-harness.js';

// A documentation address (RFC 5737): nothing else in a run carries it.
const ADDRESS = '198.51.100.23';

const limits = (over: Partial<RateLimits> = {}): RateLimits => ({
  windowMs: 60_000,
  group: 'events',
  clientMax: 3,
  deviceId: null,
  address: ADDRESS,
  addressMax: 30,
  ...over,
});

/** Registers the rate-limit contract for one implementation. */
export function rateLimitContract(name: string, make: MakeHarness): void {
  describe(`DeviceStore rate limits: ${name}`, () => {
    const fresh = freshHarnesses(make);

    it('a device over its limit is refused with the counter state, and nothing of the refused touch is counted or queued', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const l = limits({ deviceId });
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await store.touch({ ...touchInput(deviceId), limits: l }));
      expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'limited']);
      expect(results[0]).toMatchObject({ limit: { max: 3, remaining: 2 } });
      expect(results[2]).toMatchObject({ limit: { max: 3, remaining: 0 } });
      const refused = results[3]!;
      if (refused.status !== 'limited') throw new Error('not limited');
      expect(refused.by).toBe('client');
      expect(refused.limit.max).toBe(3);
      expect(refused.limit.remaining).toBe(0);
      expect(refused.limit.resetMs).toBeGreaterThan(0);
      expect(refused.limit.resetMs).toBeLessThanOrEqual(60_000);
      expect(await store.session(deviceId)).toMatchObject({ pagesVisited: 3 });
      expect(await drain(store, deviceId)).toHaveLength(3);
      // Another device from the same address has its own client counter.
      expect(
        await store.touch({ ...touchInput(newDeviceId()), limits: limits({ deviceId: newDeviceId() }) }),
      ).toMatchObject({
        status: 'ok',
      });
    });

    it('a conversion ends the session but not the page-view counter of its device', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const l = limits({ deviceId });
      for (let i = 0; i < 2; i++) await store.touch({ ...touchInput(deviceId), limits: l });
      expect(await store.convert(deviceId, 'counted-user')).toMatchObject({ status: 'linked' });
      expect(await store.session(deviceId)).toBeNull();
      const third = await store.touch({ ...touchInput(deviceId), limits: l });
      expect(third).toMatchObject({ status: 'ok', newSession: true, limit: { remaining: 0 } });
      expect(await store.touch({ ...touchInput(deviceId), limits: l })).toMatchObject({ status: 'limited' });
    });

    it('an address holds its limit whatever device ids it sends, and a client without a device id is counted per address', async () => {
      const { store } = await fresh();
      const l = { addressMax: 5, clientMax: 100 };
      const statuses: string[] = [];
      // A new random device id on every request: each has room, the address does not.
      for (let i = 0; i < 6; i++) {
        const deviceId = newDeviceId();
        statuses.push(
          (await store.touch({ ...touchInput(deviceId), limits: limits({ ...l, deviceId }) })).status,
        );
      }
      expect(statuses).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'limited']);
      const refused = await store.touch({ ...touchInput(newDeviceId()), limits: limits(l) });
      expect(refused).toMatchObject({ status: 'limited', by: 'address', limit: { max: 5, remaining: 0 } });
      // Another address is not affected; without a device id it has a client counter of its own.
      const other = limits({ address: '198.51.100.24', clientMax: 2 });
      const others = [];
      for (let i = 0; i < 3; i++)
        others.push((await store.touch({ ...touchInput(newDeviceId()), limits: other })).status);
      expect(others).toEqual(['ok', 'ok', 'limited']);
    });

    it('both limits hold exactly across two store objects on the same data, as two collectors', async () => {
      const h = await fresh();
      const twin = await h.twin();
      const deviceId = newDeviceId();
      const statuses: string[] = [];
      for (let i = 0; i < 5; i++) {
        for (const store of [h.store, twin]) {
          statuses.push(
            (await store.touch({ ...touchInput(deviceId), limits: limits({ deviceId, clientMax: 4 }) }))
              .status,
          );
        }
      }
      expect(statuses.filter((s) => s === 'ok')).toHaveLength(4);
      expect(await h.store.session(deviceId)).toMatchObject({ pagesVisited: 4 });
      const address = '198.51.100.25';
      const byAddress: string[] = [];
      for (let i = 0; i < 6; i++) {
        for (const store of [h.store, twin]) {
          const d = newDeviceId();
          byAddress.push(
            (await store.touch({ ...touchInput(d), limits: limits({ deviceId: d, address, addressMax: 7 }) }))
              .status,
          );
        }
      }
      expect(byAddress.filter((s) => s === 'ok')).toHaveLength(7);
    });

    it('a window ends: a refused client gets in again once its counter resets', async () => {
      const h = await fresh();
      const deviceId = newDeviceId();
      const l = limits({ deviceId, clientMax: 1, windowMs: 1000 });
      expect((await h.store.touch({ ...touchInput(deviceId), limits: l })).status).toBe('ok');
      expect((await h.store.touch({ ...touchInput(deviceId), limits: l })).status).toBe('limited');
      h.passTime(1001);
      await waitFor(
        async () => (await h.store.touch({ ...touchInput(deviceId), limits: l })).status === 'ok',
        {
          what: 'the window to end',
        },
      );
    });

    it('user events count the same limits and queue nothing when refused', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const record = (n: number) => ({
        kind: 'pageview' as const,
        eventId: pageview().id,
        deviceId: null,
        userId: 'limited-user',
        sessionId: null,
        source: null,
        visitorHash: null,
        userAgent: null,
        url: `https://shop.example/${n}`,
        referrer: null,
        clientTs: null,
        serverTs: Date.now(),
      });
      const l = limits({ deviceId, clientMax: 2 });
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await store.queueUserEvents('limited-user', [record(i)], l));
      expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'limited']);
      expect(results[0]).toMatchObject({ accepted: 1, limit: { max: 2, remaining: 1 } });
      expect(await drain(store, 'limited-user')).toHaveLength(2);
      // The touch of the same client shares the group's counter.
      expect(await store.touch({ ...touchInput(deviceId), limits: l })).toMatchObject({ status: 'limited' });
    });

    it('limit() counts a group of its own beside the shared address counter', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const identify = limits({ deviceId, group: 'identify', clientMax: 1, addressMax: 3 });
      expect(await store.limit(identify)).toMatchObject({
        status: 'allowed',
        limit: { max: 1, remaining: 0 },
      });
      expect(await store.limit(identify)).toMatchObject({ status: 'limited', by: 'client' });
      // The events group of the same device still has room; the address has one request left.
      const events = limits({ deviceId, clientMax: 5, addressMax: 3 });
      expect(await store.touch({ ...touchInput(deviceId), limits: events })).toMatchObject({ status: 'ok' });
      expect(await store.touch({ ...touchInput(deviceId), limits: events })).toMatchObject({
        status: 'limited',
        by: 'address',
      });
    });

    it('no stored key holds the address', async () => {
      const h = await fresh();
      const deviceId = newDeviceId();
      await h.store.touch({ ...touchInput(deviceId), limits: limits() });
      await h.store.touch({ ...touchInput(newDeviceId()), limits: limits({ deviceId }) });
      await h.store.limit(limits({ group: 'identify' }));
      const keys = await h.keysOf('');
      if (keys === null) return;
      expect(keys.some((k) => k.includes(':r:'))).toBe(true);
      for (const part of [ADDRESS, ADDRESS.replaceAll('.', '')]) {
        expect(keys.filter((k) => k.includes(part))).toEqual([]);
      }
    });

    it('new ids are limited per IPv4 address and /24; page views of known ids are never counted', async () => {
      const { store } = await fresh();
      const newIds = { windowMs: 60_000, perAddress: 3, perNetwork: 5, perBlock: 100 };
      const at = (address: string, deviceId: string) =>
        store.touch({
          ...touchInput(deviceId),
          limits: limits({ address, deviceId, clientMax: 100, addressMax: null, newIds }),
        });
      const known = [newDeviceId(), newDeviceId(), newDeviceId()];
      for (const id of known) expect(await at('198.51.100.23', id)).toMatchObject({ status: 'ok' });
      const refusedId = newDeviceId();
      const refused = await at('198.51.100.23', refusedId);
      expect(refused).toMatchObject({ status: 'limited', by: 'network', limit: { max: 3, remaining: 0 } });
      // Nothing of the refused id was written.
      expect(await store.session(refusedId)).toBeNull();
      // Its partition may hold a known id's page view (ids share partitions): only its own count.
      const queued = await drain(store, refusedId);
      expect(queued.filter((e) => (e.record as { deviceId?: string }).deviceId === refusedId)).toEqual([]);
      // Known ids go on: their page views are not new ids.
      for (let i = 0; i < 5; i++) {
        for (const id of known) expect(await at('198.51.100.23', id)).toMatchObject({ status: 'ok' });
      }
      // The /24 holds 5: two more from a neighbour, then its network refuses.
      const neighbour = [];
      for (let i = 0; i < 3; i++) neighbour.push((await at('198.51.100.99', newDeviceId())).status);
      expect(neighbour).toEqual(['ok', 'ok', 'limited']);
      expect(await at('198.51.101.1', newDeviceId())).toMatchObject({ status: 'ok' });
    });

    it('ids spread over the /64s of one /48 are refused at its limit, and the /32 bounds its /48s', async () => {
      const { store } = await fresh();
      const newIds = { windowMs: 60_000, perAddress: 10, perNetwork: 20, perBlock: 30 };
      const at = (address: string) => {
        const deviceId = newDeviceId();
        return store.touch({
          ...touchInput(deviceId),
          limits: limits({ address, deviceId, clientMax: 100, addressMax: null, newIds }),
        });
      };
      const spread: string[] = [];
      // One id per /64, all in 2001:db8:aa::/48 (each address alone is far below its limit).
      for (let i = 0; i < 25; i++) spread.push((await at(`2001:db8:aa:${i.toString(16)}::1`)).status);
      expect(spread.filter((s) => s === 'ok')).toHaveLength(20);
      expect(await at('2001:db8:aa:ff::1')).toMatchObject({ status: 'limited', by: 'network' });
      // Another /48 of the /32 has 10 left of the block's 30.
      const sibling: string[] = [];
      for (let i = 0; i < 12; i++) sibling.push((await at(`2001:db8:bb:${i.toString(16)}::1`)).status);
      expect(sibling.filter((s) => s === 'ok')).toHaveLength(10);
      // Another /32 is not affected.
      expect(await at('2001:db9:aa::1')).toMatchObject({ status: 'ok' });
    });

    it('200 browsers behind one address are never refused with the default new-id limits', async () => {
      const { store } = await fresh();
      const newIds = { windowMs: 600_000, perAddress: 1_000, perNetwork: 3_000, perBlock: 10_000 };
      const browsers = Array.from({ length: 200 }, () => newDeviceId());
      const statuses = new Set<string>();
      for (let visit = 0; visit < 2; visit++) {
        const results = await Promise.all(
          browsers.map((deviceId) =>
            store.touch({
              ...touchInput(deviceId),
              limits: limits({ deviceId, clientMax: 100, addressMax: null, newIds }),
            }),
          ),
        );
        for (const r of results) statuses.add(r.status);
      }
      expect([...statuses]).toEqual(['ok']);
    });
  });
}
