/**
 * Consent denied in the demo's switch: the SDK forgets the id, the collector clears its cookie, and on
 * the next visit no fingerprint code is loaded, nothing is stored and nothing is tracked.
 */
import { hasServices, waitFor } from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deviceDetail } from './support/admin-api.js';
import { launchProfile, type Profile, screenshot } from './support/browser.js';
import {
  type CollectorOnServices,
  type CollectorProcess,
  startOnServices,
} from './support/collector-process.js';
import { deviceCookie, goTo, isFingerprintChunk, storedId, storedIdNow } from './support/demo-page.js';
import { type RequestLog, recordRequests } from './support/request-log.js';

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('consent denied in the demo', () => {
  let running: CollectorOnServices;
  let collector: CollectorProcess;
  let profile: Profile;
  let log: RequestLog;

  beforeAll(async () => {
    running = await startOnServices('e2e_consent');
    collector = running.collector;
    profile = await launchProfile();
    log = recordRequests(profile.context);
  });

  afterAll(async () => {
    await profile?.close();
    await running?.close();
  });

  test('denying consent loads no fingerprint code, stores and tracks nothing, and clears the cookie already set', async () => {
    const page = await profile.context.newPage();
    await page.goto(`${collector.url}/demo/`);
    const deviceId = await storedId(page);
    await waitFor(async () => (await deviceCookie(profile.context, collector.url)) === deviceId, {
      what: 'the collector cookie',
    });
    const tracked = await waitFor(async () => (await deviceDetail(collector.url, deviceId)).liveSession, {
      what: 'the first page view',
    });

    // The switch: the SDK drops the id at once, and the next request tells the collector.
    log.clear();
    await page.click('#consent-switch');
    await page.waitForSelector('#consent-state:text("denied")');
    expect(await storedIdNow(page)).toBeNull();
    const denied = await waitFor(() => log.to('/v1/session', { answered: true })[0], {
      what: 'a request under denied consent',
    });
    expect(denied.headers['x-device-consent']).toBe('denied');
    expect(denied.headers['x-device-fingerprint']).toBeUndefined();
    expect(denied.responseHeaders?.['set-cookie']).toMatch(/device_fp=;.*Max-Age=0/i);
    expect(await deviceCookie(profile.context, collector.url)).toBeUndefined();

    // The next visit, with the refusal remembered: nothing of devicelink runs.
    log.clear();
    await page.reload();
    await goTo(page, 'pricing');
    await goTo(page, 'about');
    await page.evaluate(() => window.devicelinkDemo!.dl.flush());
    await page.click('#refresh-session');
    await waitFor(() => log.to('/v1/session', { answered: true }).length >= 2 || null, {
      what: 'session requests after the reload',
    });
    expect(log.all.filter((e) => isFingerprintChunk(e.url))).toEqual([]);
    expect(log.to('/v1/events')).toEqual([]);
    expect(log.to('/v1/identify')).toEqual([]);
    for (const e of log.to('/v1/session', { answered: true })) {
      expect(e.headers['x-device-consent']).toBe('denied');
      expect(e.headers['x-device-fingerprint']).toBeUndefined();
      expect(e.headers.cookie ?? '').not.toContain('device_fp');
      expect(e.responseHeaders?.['x-device-fingerprint']).toBeUndefined();
      expect(e.responseHeaders?.['set-cookie']).toBeUndefined();
      expect(JSON.parse(e.responseBody!)).toEqual({
        deviceId: null,
        source: null,
        joined: false,
        session: null,
      });
    }
    // Only the demo's own record of the refusal is stored.
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual(['devicelink-demo:consent']);
    expect(await page.evaluate(() => window.devicelinkDemo!.dl.deviceId())).toBeNull();
    expect(await deviceCookie(profile.context, collector.url)).toBeUndefined();
    // The device's session did not move while consent was denied.
    const after = (await deviceDetail(collector.url, deviceId)).liveSession;
    expect(after?.pagesVisited).toBe(tracked.pagesVisited);
    await screenshot(page, 'consent-denied');
  });
});
