/**
 * The demo served from another origin of the same site (127.0.0.1, another port) talking to the
 * collector with CORS_ORIGINS set, and a third-party API on another site that must never see the id.
 */
import { hasServices, waitFor } from '@devicelink/test-env';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchProfile, type Profile, screenshot } from './support/browser.js';
import {
  type CollectorOnServices,
  type CollectorProcess,
  startOnServices,
} from './support/collector-process.js';
import { deviceCookie, goTo, MINTED_ID, storedId, storedIdNow } from './support/demo-page.js';
import { type RequestLog, recordRequests } from './support/request-log.js';
import { type RunningServer, serveDemo, serveThirdParty } from './support/static-servers.js';

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('the demo on a second origin', () => {
  let running: CollectorOnServices;
  let collector: CollectorProcess;
  let demo: RunningServer;
  let thirdParty: Awaited<ReturnType<typeof serveThirdParty>>;
  let profile: Profile;
  let log: RequestLog;
  let page: Page;
  const foreignId = 'third-party-id-0123456789abcdef';

  beforeAll(async () => {
    // The demo server reads the collector's address per request: it starts first, so its origin can
    // go into CORS_ORIGINS.
    demo = await serveDemo(() => collector.url);
    running = await startOnServices('e2e_origin', { CORS_ORIGINS: demo.origin });
    collector = running.collector;
    thirdParty = await serveThirdParty(foreignId);
    profile = await launchProfile();
    log = recordRequests(profile.context);
  });

  afterAll(async () => {
    await profile?.close();
    await thirdParty?.close();
    await running?.close();
    await demo?.close();
  });

  test('the app on another port reads the echoed header through CORS and keeps the collector cookie', async () => {
    page = await profile.context.newPage();
    await page.goto(`${demo.origin}/demo/`);
    const deviceId = await storedId(page);
    expect(deviceId).toMatch(MINTED_ID);
    await goTo(page, 'pricing');

    const events = await waitFor(
      () =>
        log
          .to('/v1/events', { answered: true })
          .find((e) => e.headers['x-device-fingerprint'] === deviceId && e.status === 202),
      { what: 'a cross-origin page view with the id' },
    );
    expect(events.url.startsWith(collector.url)).toBe(true);
    expect(events.headers.origin).toBe(demo.origin);
    expect(events.responseHeaders?.['access-control-allow-origin']).toBe(demo.origin);
    expect(events.responseHeaders?.['access-control-allow-credentials']).toBe('true');

    // The page itself can read the echo: the header is exposed to it.
    const read = await page.evaluate(async () => {
      const res = await window.devicelinkDemo!.api.get('/v1/session');
      return { echoed: res.headers['x-device-fingerprint'], body: res.data };
    });
    expect(read.echoed).toBe(deviceId);
    expect(read.body).toMatchObject({ deviceId, source: 'header' });

    // The cookie the collector set is kept and sent back on later requests.
    expect(await deviceCookie(profile.context, collector.url)).toBe(deviceId);
    log.clear();
    await page.click('#refresh-session');
    const session = await waitFor(() => log.to('/v1/session', { answered: true })[0], {
      what: 'a session request',
    });
    expect(session.headers.cookie).toContain(`device_fp=${deviceId}`);
    await screenshot(page, 'second-origin-1-cors');
  });

  test('a request to a third-party origin through the same axios instance carries no device header and its echo is ignored', async () => {
    const deviceId = (await storedIdNow(page))!;
    log.clear();
    const status = await page.evaluate(
      (url) => window.devicelinkDemo!.api.get(url).then((r) => r.status),
      `${thirdParty.origin}/api/things`,
    );
    expect(status).toBe(200);

    const seen = thirdParty.received.filter((r) => r.url === '/api/things');
    expect(seen.map((r) => r.method)).toEqual(['GET']);
    expect(seen[0]!.headers['x-device-fingerprint']).toBeUndefined();
    expect(seen[0]!.headers['x-device-consent']).toBeUndefined();
    const inBrowser = log.all.filter((e) => e.url.startsWith(thirdParty.origin));
    expect(inBrowser.length).toBeGreaterThan(0);
    for (const e of inBrowser) expect(e.headers['x-device-fingerprint']).toBeUndefined();

    expect(await storedIdNow(page)).toBe(deviceId);
    expect(await page.evaluate(() => window.devicelinkDemo!.dl.deviceId())).toBe(deviceId);
  });
});
