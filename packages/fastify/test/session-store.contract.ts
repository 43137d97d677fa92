/**
 * The SessionStore contract (CONTRACT: Anonymous session, Conversion, Erasure), written once and run
 * against every implementation.
 */
import { partitionOf } from '@devicelink/protocol';
import { waitFor } from '@devicelink/test-env';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreHarness } from './store-harness.js';
import { drain, type MakeHarness, newDeviceId, pageview, touchInput } from './store-harness.js';

/** Registers the session store contract for one implementation. */
export function sessionStoreContract(name: string, make: MakeHarness): void {
  describe(`SessionStore contract: ${name}`, () => {
    const open: StoreHarness[] = [];
    const fresh: MakeHarness = async (o) => {
      const h = await make(o);
      open.push(h);
      return h;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((h) => h.close()));
    });

    it('a first touch starts a session with the count, source and visitor hash, and get returns it', async () => {
      const { sessions } = await fresh();
      const deviceId = newDeviceId();
      const r = await sessions.touch({
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
      expect(await sessions.get(deviceId)).toEqual(r.session);
      const again = await sessions.touch(touchInput(deviceId));
      expect(again).toMatchObject({ status: 'ok', newSession: false, accepted: 1 });
    });

    it('get answers null for a device never seen', async () => {
      const { sessions } = await fresh();
      expect(await sessions.get(newDeviceId())).toBeNull();
    });

    it('1,000 concurrent touches on one device count exactly 1,000 page views and queue 1,000 entries', async () => {
      const { sessions, queue } = await fresh();
      const deviceId = newDeviceId();
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => sessions.touch(touchInput(deviceId))),
      );
      expect(results.every((r) => r.status === 'ok' && r.accepted === 1)).toBe(true);
      const ids = new Set(results.map((r) => (r.status === 'ok' ? r.session.sessionId : '')));
      expect(ids.size).toBe(1);
      expect((await sessions.get(deviceId))?.pagesVisited).toBe(1000);
      expect(results.filter((r) => r.status === 'ok' && r.newSession)).toHaveLength(1);
      expect(await queue.depth(partitionOf(deviceId, queue.partitions))).toBe(1000);
      const entries = await drain(queue, deviceId);
      expect(entries).toHaveLength(1000);
      expect(new Set(entries.map((e) => (e.record.kind === 'pageview' ? e.record.eventId : ''))).size).toBe(
        1000,
      );
    });

    it('the same event id sent twice counts once, in one call or in two', async () => {
      const { sessions, queue } = await fresh();
      const deviceId = newDeviceId();
      const e = pageview();
      const first = await sessions.touch(touchInput(deviceId, [e, e]));
      expect(first).toMatchObject({ status: 'ok', accepted: 1 });
      const retry = await sessions.touch(touchInput(deviceId, [e]));
      expect(retry).toMatchObject({ status: 'ok', accepted: 0, newSession: false });
      expect((await sessions.get(deviceId))?.pagesVisited).toBe(1);
      expect(await drain(queue, deviceId)).toHaveLength(1);
    });

    it('queues each page view with the session id, server time and user agent', async () => {
      const { sessions, queue } = await fresh();
      const deviceId = newDeviceId();
      const e = { ...pageview('https://shop.example/a'), referrer: 'https://ref.example', clientTs: 1234 };
      const r = await sessions.touch({ ...touchInput(deviceId, [e]), source: 'cookie', visitorHash: 'vh' });
      if (r.status !== 'ok') throw new Error('not ok');
      const [entry] = await drain(queue, deviceId);
      expect(entry?.partition).toBe(partitionOf(deviceId, queue.partitions));
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

    it('a page view after the idle timeout starts a new session id', async () => {
      const h = await fresh({ sessionIdleSeconds: 1, sessionMaxSeconds: 3600 });
      const deviceId = newDeviceId();
      const first = await h.sessions.touch(touchInput(deviceId));
      h.passTime(1500);
      await waitFor(async () => (await h.sessions.get(deviceId)) === null, { what: 'idle expiry' });
      const next = await h.sessions.touch(touchInput(deviceId));
      expect(next).toMatchObject({ status: 'ok', newSession: true, session: { pagesVisited: 1 } });
      if (first.status !== 'ok' || next.status !== 'ok') return;
      expect(next.session.sessionId).not.toBe(first.session.sessionId);
    });

    it('a page view after the maximum age starts a new session id even while active', async () => {
      const h = await fresh({ sessionIdleSeconds: 3600, sessionMaxSeconds: 1 });
      const deviceId = newDeviceId();
      const first = await h.sessions.touch(touchInput(deviceId));
      h.passTime(1500);
      await waitFor(async () => (await h.sessions.get(deviceId)) === null, { what: 'max-age expiry' });
      const next = await h.sessions.touch(touchInput(deviceId));
      expect(next).toMatchObject({ status: 'ok', newSession: true, session: { pagesVisited: 1 } });
      if (first.status !== 'ok' || next.status !== 'ok') return;
      expect(next.session.sessionId).not.toBe(first.session.sessionId);
    });

    it('conversion ends the live session and queues a link naming it', async () => {
      const { sessions, queue } = await fresh();
      const deviceId = newDeviceId();
      const t = await sessions.touch(touchInput(deviceId));
      if (t.status !== 'ok') throw new Error('not ok');
      const c = await sessions.convert(deviceId, 'user-1');
      expect(c).toEqual({ status: 'linked', sessionId: t.session.sessionId });
      expect(await sessions.get(deviceId)).toBeNull();
      const link = (await drain(queue, deviceId)).find((e) => e.record.kind === 'link');
      expect(link?.record).toMatchObject({
        kind: 'link',
        deviceId,
        userId: 'user-1',
        sessionId: t.session.sessionId,
      });
      expect(link?.record.kind === 'link' && link.record.ts >= t.session.lastSeen).toBe(true);
      const after = await sessions.touch(touchInput(deviceId));
      expect(after).toMatchObject({ status: 'ok', newSession: true });
    });

    it('the same device and user again adds no link until a new session starts', async () => {
      const { sessions, queue } = await fresh();
      const deviceId = newDeviceId();
      expect(await sessions.convert(deviceId, 'u1')).toEqual({ status: 'linked', sessionId: null });
      expect(await sessions.convert(deviceId, 'u1')).toEqual({ status: 'unchanged', sessionId: null });
      expect(await sessions.convert(deviceId, 'u2')).toMatchObject({ status: 'linked' });
      await sessions.touch(touchInput(deviceId));
      expect(await sessions.convert(deviceId, 'u2')).toMatchObject({ status: 'linked' });
      const links = (await drain(queue, deviceId)).filter((e) => e.record.kind === 'link');
      expect(links.map((e) => (e.record.kind === 'link' ? e.record.userId : ''))).toEqual(['u1', 'u2', 'u2']);
    });

    it('an alias pair is queued once however often it is recorded', async () => {
      const { sessions, queue } = await fresh();
      const deviceId = newDeviceId();
      const other = newDeviceId();
      await Promise.all([1, 2, 3].map(() => sessions.recordAlias(deviceId, other)));
      await sessions.recordAlias(deviceId, deviceId);
      const aliases = (await drain(queue, deviceId)).filter((e) => e.record.kind === 'alias');
      expect(aliases).toHaveLength(1);
      expect(aliases[0]?.record).toMatchObject({ kind: 'alias', deviceId, aliasId: other });
    });

    it('erasure removes every key of the device, queues an erase record last and refuses later work', async () => {
      const h = await fresh();
      const { sessions, queue } = h;
      const deviceId = newDeviceId();
      await sessions.touch(touchInput(deviceId, [pageview(), pageview()]));
      await sessions.recordAlias(deviceId, newDeviceId());
      await sessions.convert(deviceId, 'u1');
      await sessions.touch(touchInput(deviceId));
      expect((await h.keysOf(deviceId))?.length ?? 1).toBeGreaterThan(0);
      await sessions.erase(deviceId);
      const left = await h.keysOf(deviceId);
      if (left) expect(left.filter((k) => !k.includes(':t:'))).toEqual([]);
      expect(await sessions.get(deviceId)).toBeNull();
      expect(await sessions.touch(touchInput(deviceId))).toEqual({ status: 'erased' });
      expect(await sessions.convert(deviceId, 'u1')).toEqual({ status: 'erased', sessionId: null });
      await sessions.recordAlias(deviceId, newDeviceId());
      const kinds = (await drain(queue, deviceId)).map((e) => e.record.kind);
      expect(kinds).toEqual(['pageview', 'pageview', 'alias', 'link', 'pageview', 'erase']);
    });

    it('user erasure queues an erase-user record behind the user page views and refuses later ones and links', async () => {
      const { sessions, queue } = await fresh();
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
      expect(await sessions.queueUserEvents(userId, [record('e1'), record('e2')])).toEqual({
        status: 'ok',
        accepted: 2,
      });
      await sessions.eraseUser(userId);
      expect(await sessions.queueUserEvents(userId, [record('e3')])).toEqual({ status: 'erased' });
      const deviceId = newDeviceId();
      await sessions.touch(touchInput(deviceId));
      expect(await sessions.convert(deviceId, userId)).toEqual({ status: 'erased', sessionId: null });
      // The device itself is untouched: its live session goes on.
      expect(await sessions.get(deviceId)).not.toBeNull();
      const mine = (await drain(queue, userId)).filter(
        (e) => e.record.kind === 'erase-user' || (e.record.kind === 'pageview' && e.record.userId === userId),
      );
      expect(mine.map((e) => e.record.kind)).toEqual(['pageview', 'pageview', 'erase-user']);
      expect(mine[2]?.record).toMatchObject({ kind: 'erase-user', userId });
    });

    it('forgetting a user on a shared device queues erase-user behind its entries and keeps the device', async () => {
      const h = await fresh();
      const { sessions, queue } = h;
      const deviceId = newDeviceId();
      await sessions.touch(touchInput(deviceId));
      await sessions.convert(deviceId, 'u-gone');
      await sessions.forgetUser(deviceId, 'u-gone');
      // The device forgot its last linked user: the same user again would link anew (were it not erased).
      expect(await sessions.convert(deviceId, 'u-gone')).toMatchObject({ status: 'linked' });
      await sessions.touch(touchInput(deviceId));
      expect(await sessions.get(deviceId)).not.toBeNull();
      const kinds = (await drain(queue, deviceId))
        .filter((e) => e.record.kind !== 'erase-user' || e.record.userId === 'u-gone')
        .map((e) => e.record.kind);
      expect(kinds).toEqual(['pageview', 'link', 'erase-user', 'link', 'pageview']);
    });

    it('the daily salt is 32 bytes, stable for a day and different across days', async () => {
      const { sessions } = await fresh();
      const a = await sessions.dailySalt('2025-01-01');
      expect(a).toHaveLength(32);
      expect((await sessions.dailySalt('2025-01-01')).equals(a)).toBe(true);
      expect((await sessions.dailySalt('2025-01-02')).equals(a)).toBe(false);
    });
  });
}
