/**
 * One person's journey through the demo served by the collector, declared as a sequence of tests that
 * share a browser profile: first visit (a minted id, the fingerprint sent once as evidence), reload and
 * a second page, login, logout with cleared localStorage (the cookie keeps the id),
 * and page views flushed by beacon when a page closes. Run once on Redis + Postgres and once on the
 * embedded defaults; `setup` says which.
 */
import { waitFor } from '@devicelink/test-env';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { deviceDetail } from './admin-api.js';
import { launchProfile, observeBeacons, type Profile, screenshot } from './browser.js';
import { type CollectorProcess, startCollector } from './collector-process.js';
import {
  deviceCookie,
  goTo,
  isFingerprintChunk,
  logIn,
  logOut,
  MINTED_ID,
  storedId,
  storedIdBecomes,
  VISITOR_ID,
} from './demo-page.js';
import { type RequestLog, recordRequests } from './request-log.js';

/** The collector's environment for one pass, and what to clean up after it. */
export interface JourneySetup {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Declares the journey's tests; `name` prefixes screenshot files. */
export function deviceJourney(name: string, setup: () => Promise<JourneySetup>): void {
  let services: JourneySetup;
  let collector: CollectorProcess;
  let profile: Profile;
  let log: RequestLog;
  let page: Page;
  let deviceId: string;
  let firstSession: string;
  let secondSession: string;

  const live = async () => (await deviceDetail(collector.url, deviceId)).liveSession;
  const isCollector = (url: string) => url.startsWith(`${collector.url}/v1/`);

  beforeAll(async () => {
    services = await setup();
    collector = await startCollector(services.env);
    profile = await launchProfile();
    log = recordRequests(profile.context);
  });

  afterAll(async () => {
    await profile?.close();
    await collector?.terminate();
    await services?.cleanup();
  });

  test('on a first visit the SDK mints the id and sends it, fresh, from the first page view; the fingerprint goes once, as evidence; route changes raise the page count', async () => {
    page = await profile.context.newPage();
    await page.goto(`${collector.url}/demo/`);
    deviceId = await storedId(page);
    expect(deviceId).toMatch(MINTED_ID);
    // The very first request already carries the minted id, marked fresh until the collector answers
    // (the page view or the demo's session read, whichever left first), and so does the first page view.
    const first = await waitFor(() => log.to('/v1/events', { answered: true })[0], {
      what: 'the first page view',
    });
    expect(first.headers['x-device-fingerprint']).toBe(deviceId);
    const [earliest] = log.all.filter((e) => isCollector(e.url) && e.method !== 'OPTIONS');
    expect(earliest!.headers).toMatchObject({ 'x-device-fingerprint': deviceId, 'x-device-fresh': '1' });
    // FingerprintJS runs for a minted id, and its visitorId goes once, in a request of its own.
    const evidence = await waitFor(() => log.to('/v1/device/fingerprint', { answered: true })[0], {
      what: 'the fingerprint evidence',
    });
    expect(log.all.some((e) => isFingerprintChunk(e.url))).toBe(true);
    expect(evidence.headers['x-device-fingerprint']).toBe(deviceId);
    // A headless test browser also sends its automation signals (the collector here runs BOT_FILTER=off).
    expect(JSON.parse(evidence.body!)).toMatchObject({
      visitorId: expect.stringMatching(VISITOR_ID),
      deviceId,
    });
    expect(evidence.status).toBe(202);
    await expect.poll(() => page.textContent('#device-how')).toMatch(/^minted here/);

    // The SDK's page views carry the id and the collector echoes it.
    const events = await waitFor(
      () =>
        log
          .to('/v1/events', { answered: true })
          .find((e) => e.headers['x-device-fingerprint'] === deviceId && e.status === 202),
      { what: 'a page view sent with the minted id' },
    );
    expect(events.responseHeaders?.['x-device-fingerprint']).toBe(deviceId);
    expect(JSON.parse(events.responseBody!)).toMatchObject({ tracked: true, deviceId });
    const start = await waitFor(live, { what: 'the live session' });
    firstSession = start.sessionId;

    await goTo(page, 'pricing');
    await goTo(page, 'about');
    const after = await waitFor(
      async () => {
        const s = await live();
        return s?.pagesVisited === start.pagesVisited + 2 ? s : null;
      },
      { what: 'two more page views in the session' },
    );
    expect(after.sessionId).toBe(firstSession);

    // The app's own request through axios carries the id too, and the page shows the count.
    const session = await waitFor(
      () =>
        log
          .to('/v1/session', { answered: true })
          .findLast(
            (e) =>
              e.headers['x-device-fingerprint'] === deviceId &&
              JSON.parse(e.responseBody || '{}').session?.pagesVisited === after.pagesVisited,
          ),
      { what: 'the session panel refreshed with the new count' },
    );
    expect(session.responseHeaders?.['x-device-fingerprint']).toBe(deviceId);
    await expect.poll(() => page.textContent('#session-pages')).toBe(String(after.pagesVisited));
    expect(await page.textContent('#device-id')).toBe(deviceId);
    await screenshot(page, `${name}-1-first-visit`);
  });

  test('a reload and a new page in the same profile keep the id and the session, and the count goes on', async () => {
    const before = (await live())!;
    await goTo(page, '');
    log.clear();
    await page.reload();
    expect(await storedId(page)).toBe(deviceId);
    // The stored id wins: no fingerprint is computed again.
    expect(log.all.some((e) => isFingerprintChunk(e.url))).toBe(false);

    const second = await profile.context.newPage();
    await second.goto(`${collector.url}/demo/`);
    expect(await storedId(second)).toBe(deviceId);
    await goTo(second, 'pricing');
    // Home before the reload, home after it, home and pricing on the second page.
    const after = await waitFor(
      async () => {
        const s = await live();
        return s?.pagesVisited === before.pagesVisited + 4 ? s : null;
      },
      { what: 'four more page views in the same session' },
    );
    expect(after.sessionId).toBe(firstSession);
    const sent = log.to('/v1/events').filter((e) => e.headers['x-device-fingerprint']);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((e) => e.headers['x-device-fingerprint'] === deviceId)).toBe(true);
    await screenshot(second, `${name}-2-second-page`);
    await second.close();
  });

  test('login sends identify with the token and the device header, the admin detail shows the conversion, and later requests carry Authorization instead of the id', async () => {
    log.clear();
    const answer = await logIn(page, log);
    const login = log.to('/demo/login', { answered: true })[0]!;
    const token = JSON.parse(login.responseBody!).accessToken as string;
    const identify = log.to('/v1/identify')[0]!;
    expect(identify.headers.authorization).toBe(`Bearer ${token}`);
    expect(identify.headers['x-device-fingerprint']).toBe(deviceId);
    expect(answer).toEqual({ userId: 'alice', deviceId, sessionId: firstSession });

    const detail = await waitFor(
      async () => {
        const d = await deviceDetail(collector.url, deviceId);
        return d.persisted.sessions.some((s) => s.id === firstSession && s.convertedUserId === 'alice')
          ? d
          : null;
      },
      { what: 'the converted session in Postgres' },
    );
    expect(detail.links.map((l) => l.userId)).toEqual(['alice']);
    expect(detail.liveSession).toBeNull();

    log.clear();
    await goTo(page, 'pricing');
    await page.click('#refresh-session');
    const events = await waitFor(() => log.to('/v1/events', { answered: true })[0], {
      what: 'a page view sent while signed in',
    });
    await waitFor(() => log.to('/v1/session', { answered: true })[0], { what: 'a session request' });
    const toCollector = log.all.filter((e) => isCollector(e.url) && e.method !== 'OPTIONS');
    for (const e of toCollector) {
      expect(e.headers.authorization, e.url).toBe(`Bearer ${token}`);
      expect(e.headers['x-device-fingerprint'], e.url).toBeUndefined();
    }
    expect(JSON.parse(events.responseBody!)).toMatchObject({ tracked: true, userId: 'alice' });
    await screenshot(page, `${name}-3-logged-in`);
  });

  test('after logout and cleared localStorage the minted id yields to the cookie: the same device comes back, a new anonymous session starts, and logging in again links it', async () => {
    await logOut(page);
    log.clear();
    await Promise.all([page.waitForEvent('load'), page.click('#clear-storage')]);
    // A new id is minted and sent fresh; the collector answers with the cookie's id and the SDK adopts it.
    await storedIdBecomes(page, deviceId);
    // Whichever request went first (the page view or the demo's session read) carried it fresh.
    const yielded = await waitFor(
      () => log.all.find((e) => isCollector(e.url) && e.headers['x-device-fresh'] === '1' && e.status),
      { what: 'the answer to the fresh request' },
    );
    expect(yielded.headers['x-device-fingerprint']).toMatch(MINTED_ID);
    expect(yielded.headers['x-device-fingerprint']).not.toBe(deviceId);
    expect(yielded.responseHeaders?.['x-device-fingerprint']).toBe(deviceId);
    expect(await page.evaluate(() => window.devicelinkDemo!.dl.deviceIdSource())).toBe('cookie');
    await expect.poll(() => page.textContent('#device-how')).toMatch(/cookie/);
    // A fresh id never rewrites the cookie.
    expect(await deviceCookie(profile.context, collector.url)).toBe(deviceId);

    const fresh = await waitFor(live, { what: 'a new anonymous session' });
    secondSession = fresh.sessionId;
    expect(secondSession).not.toBe(firstSession);
    await expect.poll(() => page.textContent('#session-id'), { timeout: 10_000 }).toBe(secondSession);
    await screenshot(page, `${name}-4-recognised`);

    const answer = await logIn(page, log);
    expect(answer).toEqual({ userId: 'alice', deviceId, sessionId: secondSession });
    const detail = await waitFor(
      async () => {
        const d = await deviceDetail(collector.url, deviceId);
        return d.persisted.sessions.some((s) => s.id === secondSession && s.convertedUserId === 'alice')
          ? d
          : null;
      },
      { what: 'the second session converted in Postgres' },
    );
    expect(detail.persisted.sessions.filter((s) => s.convertedUserId === 'alice').map((s) => s.id)).toEqual([
      firstSession,
      secondSession,
    ]);
  });

  test('closing the page sends its queued page views by beacon and they arrive on the device', async () => {
    await logOut(page);
    await page.close();
    // The conversion ended the live session; page views held for ten minutes start the next one.
    expect(await live()).toBeNull();
    log.clear();
    const held = await profile.context.newPage();
    const beacons = await observeBeacons(held);
    await held.goto(`${collector.url}/demo/?batchMs=600000`);
    expect(await storedId(held)).toBe(deviceId);
    await goTo(held, 'pricing');
    await goTo(held, 'about');
    await held.click('#refresh-session');
    await waitFor(() => log.to('/v1/session', { answered: true })[0], { what: 'a session request' });
    expect(log.to('/v1/events')).toEqual([]);
    expect(await live()).toBeNull();

    await held.close({ runBeforeUnload: true });
    // Chromium sends a beacon after the page is gone, where Playwright no longer sees its requests: the
    // call itself is observed in the page, and its arrival at the collector below.
    const beacon = await waitFor(() => beacons[0], { what: 'the beacon' });
    expect(beacon).toMatchObject({ url: `${collector.url}/v1/events`, queued: true });
    expect(beacon.body.deviceId).toBe(deviceId);
    expect(beacon.body.events.map((e: { url: string }) => new URL(e.url).pathname)).toEqual([
      '/demo/',
      '/demo/pricing',
      '/demo/about',
    ]);
    const third = await waitFor(
      async () => {
        const d = await deviceDetail(collector.url, deviceId);
        const s = d.persisted.sessions.find((x) => x.id !== firstSession && x.id !== secondSession);
        return s?.pageViews === 3 ? s : null;
      },
      { what: 'the beacon page views persisted on the device' },
    );
    expect(third.convertedUserId).toBeNull();
  });
}
