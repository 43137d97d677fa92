/**
 * The DeviceStore contract (docs/protocol.md, Anonymous session, Conversion): the request path's
 * operations, written once and run against every implementation.
 */
import { partitionOf } from '@devicelink/protocol';
import { waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import {
  drain,
  freshHarnesses,
  type MakeHarness,
  newDeviceId,
  pageview,
  touchInput,
} from './store-harness.js';

/** Registers the DeviceStore contract for one implementation. */
export function deviceStoreContract(name: string, make: MakeHarness): void {
  describe(`DeviceStore contract: ${name}`, () => {
    const fresh = freshHarnesses(make);
    it('a first touch starts a session with the count, source and visitor hash, and the admin read returns it', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const r = await store.touch({
        ...touchInput(deviceId, [pageview(), pageview()]),
        source: 'server',
        visitorHash: 'vh-abc',
      });
      expect(r.status).toBe('ok');
      if (r.status !== 'ok') return;
      expect(r.accepted).toBe(2);
      expect(r.newSession).toBe(true);
      expect(r.session).toMatchObject({ deviceId, source: 'server', visitorHash: 'vh-abc', pagesVisited: 2 });
      expect(r.session.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
      expect(r.session.firstSeen).toBe(r.session.lastSeen);
      expect(await store.session(deviceId)).toEqual(r.session);
      const again = await store.touch(touchInput(deviceId));
      expect(again).toMatchObject({ status: 'ok', newSession: false, accepted: 1 });
    });

    it('1,000 concurrent touches on one device count exactly 1,000 page views and queue 1,000 entries', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => store.touch(touchInput(deviceId))),
      );
      expect(results.every((r) => r.status === 'ok' && r.accepted === 1)).toBe(true);
      const ids = new Set(results.map((r) => (r.status === 'ok' ? r.session.sessionId : '')));
      expect(ids.size).toBe(1);
      expect((await store.session(deviceId))?.pagesVisited).toBe(1000);
      expect(results.filter((r) => r.status === 'ok' && r.newSession)).toHaveLength(1);
      expect(await store.depth(partitionOf(deviceId, store.partitions))).toBe(1000);
      const entries = await drain(store, deviceId);
      expect(entries).toHaveLength(1000);
      expect(new Set(entries.map((e) => (e.record.kind === 'pageview' ? e.record.eventId : ''))).size).toBe(
        1000,
      );
    });

    it('the same event id sent twice counts once, in one call or in two', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const e = pageview();
      const first = await store.touch(touchInput(deviceId, [e, e]));
      expect(first).toMatchObject({ status: 'ok', accepted: 1 });
      const retry = await store.touch(touchInput(deviceId, [e]));
      expect(retry).toMatchObject({ status: 'ok', accepted: 0, newSession: false });
      expect((await store.session(deviceId))?.pagesVisited).toBe(1);
      expect(await drain(store, deviceId)).toHaveLength(1);
    });

    it('queues each page view with the session id, server time and user agent', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const e = { ...pageview('https://shop.example/a'), referrer: 'https://ref.example', clientTs: 1234 };
      const r = await store.touch({ ...touchInput(deviceId, [e]), source: 'cookie', visitorHash: 'vh' });
      if (r.status !== 'ok') throw new Error('not ok');
      const [entry] = await drain(store, deviceId);
      expect(entry?.partition).toBe(partitionOf(deviceId, store.partitions));
      expect(entry?.record).toEqual({
        kind: 'pageview',
        eventId: e.id,
        deviceId,
        userId: null,
        sessionId: r.session.sessionId,
        source: 'cookie',
        visitorHash: 'vh',
        userAgent: 'Mozilla/5.0 (test)',
        url: 'https://shop.example/a',
        referrer: 'https://ref.example',
        clientTs: 1234,
        serverTs: r.session.lastSeen,
      });
    });

    it.each([
      {
        name: 'a page view after the idle timeout starts a new session id',
        options: { sessionIdleSeconds: 1, sessionMaxSeconds: 3600 },
        what: 'idle expiry',
      },
      {
        name: 'a page view after the maximum age starts a new session id even while active',
        options: { sessionIdleSeconds: 3600, sessionMaxSeconds: 1 },
        what: 'max-age expiry',
      },
    ])('$name', async ({ options, what }) => {
      const h = await fresh(options);
      const deviceId = newDeviceId();
      const first = await h.store.touch(touchInput(deviceId));
      h.passTime(1500);
      await waitFor(async () => (await h.store.session(deviceId)) === null, { what });
      const next = await h.store.touch(touchInput(deviceId));
      expect(next).toMatchObject({ status: 'ok', newSession: true, session: { pagesVisited: 1 } });
      if (first.status !== 'ok' || next.status !== 'ok') return;
      expect(next.session.sessionId).not.toBe(first.session.sessionId);
    });

    it('conversion ends the live session and queues a link naming it', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const t = await store.touch(touchInput(deviceId));
      if (t.status !== 'ok') throw new Error('not ok');
      const c = await store.convert(deviceId, 'user-1');
      expect(c).toEqual({ status: 'linked', sessionId: t.session.sessionId });
      expect(await store.session(deviceId)).toBeNull();
      const link = (await drain(store, deviceId)).find((e) => e.record.kind === 'link');
      expect(link?.record).toMatchObject({
        kind: 'link',
        deviceId,
        userId: 'user-1',
        sessionId: t.session.sessionId,
      });
      expect(link?.record.kind === 'link' && link.record.ts >= t.session.lastSeen).toBe(true);
      const after = await store.touch(touchInput(deviceId));
      expect(after).toMatchObject({ status: 'ok', newSession: true });
    });

    it('the same device and user again adds no link until a new session starts', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      expect(await store.convert(deviceId, 'u1')).toEqual({ status: 'linked', sessionId: null });
      expect(await store.convert(deviceId, 'u1')).toEqual({ status: 'unchanged', sessionId: null });
      expect(await store.convert(deviceId, 'u2')).toMatchObject({ status: 'linked' });
      await store.touch(touchInput(deviceId));
      expect(await store.convert(deviceId, 'u2')).toMatchObject({ status: 'linked' });
      const links = (await drain(store, deviceId)).filter((e) => e.record.kind === 'link');
      expect(links.map((e) => (e.record.kind === 'link' ? e.record.userId : ''))).toEqual(['u1', 'u2', 'u2']);
    });

    it('an edge is queued once per pair and kind however often it is recorded', async () => {
      const { store } = await fresh();
      const deviceId = newDeviceId();
      const other = newDeviceId();
      await Promise.all([1, 2, 3].map(() => store.recordEdge({ kind: 'cookie', deviceId, otherId: other })));
      await store.recordEdge({ kind: 'yield', deviceId, otherId: other });
      await store.recordEdge({ kind: 'cookie', deviceId, otherId: deviceId });
      const edges = (await drain(store, deviceId)).filter((e) => e.record.kind === 'edge');
      expect(edges.map((e) => e.record)).toEqual([
        expect.objectContaining({ kind: 'edge', edge: 'cookie', deviceId, otherId: other }),
        expect.objectContaining({ kind: 'edge', edge: 'yield', deviceId, otherId: other }),
      ]);
    });

    it('the daily salt is 32 bytes, stable for a day and different across days', async () => {
      const { store } = await fresh();
      const a = await store.dailySalt('2025-01-01');
      expect(a).toHaveLength(32);
      expect((await store.dailySalt('2025-01-01')).equals(a)).toBe(true);
      expect((await store.dailySalt('2025-01-02')).equals(a)).toBe(false);
    });

    it('the daily salt is the same for every process on the store (another store on it reads it)', async () => {
      const h = await fresh();
      const day = new Date().toISOString().slice(0, 10);
      const [a, b] = await Promise.all([h.store.dailySalt(day), (await h.twin()).dailySalt(day)]);
      expect(a.equals(b)).toBe(true);
      expect((await (await h.twin()).dailySalt(day)).equals(a)).toBe(true);
    });
  });
}
