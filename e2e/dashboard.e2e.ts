/**
 * The dashboard (README.md, The dashboard) in Chromium against a collector on Redis and Postgres: page views,
 * logins and signed-in views are sent over HTTP, then the dashboard, signed in with the read-only token, must
 * show exactly those counts in the tables beside its charts; a user lookup shows the user's pre-login pages
 * and nobody else's; hostile strings render as text; empty and error states show; a wrong token is refused,
 * the read-only token cannot erase, and no token reaches a URL, a cookie or the log.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  openServices,
  type RunningProcess,
  startCollectorProcess,
  type TestServices,
  waitFor,
} from '@devicelink/test-env';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchProfile, type Profile, screenshot } from './support/browser.js';
import { type RequestLog, recordRequests } from './support/request-log.js';

const ADMIN_TOKEN = `e2e-admin-${randomBytes(16).toString('hex')}`;
const DASHBOARD_TOKEN = `e2e-dashboard-${randomBytes(16).toString('hex')}`;
const JWT_SECRET = `e2e-jwt-secret-${randomBytes(16).toString('hex')}`;
const HOSTILE = '<img src=x onerror=window.__xss=1>';
const HOSTILE_URL = `https://shop.test/${HOSTILE}`;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function jwt(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: now, exp: now + 3600 })}`;
  return `${input}.${createHmac('sha256', JWT_SECRET).update(input).digest('base64url')}`;
}
const deviceId = () => `e2e${randomBytes(12).toString('hex')}`;
/** A desktop browser's user agent: the bot filter (on) counts these page views as people's. */
const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36';
/** A moment later than now by at least a millisecond (a login and the next session never share one). */
const tick = () => new Promise((r) => setTimeout(r, 5));

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('the dashboard', () => {
  let services: TestServices;
  let collector: RunningProcess;
  let profile: Profile;
  let log: RequestLog;
  let page: Page;
  const alice = `alice-${uuidv7()}`;
  const bob = `bob-${uuidv7()}`;

  /** One request per page, a few milliseconds apart: the journey's order is the order sent. */
  const send = async (headers: Record<string, string>, urls: string[], referrer?: string) => {
    for (const url of urls) {
      const res = await fetch(`${collector.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': CHROME, ...headers },
        body: JSON.stringify({
          events: [{ type: 'pageview', url, id: uuidv7(), ...(referrer ? { referrer } : {}) }],
        }),
      });
      expect(res.status).toBe(202);
      await tick();
    }
  };
  const identify = async (device: string, sub: string) => {
    const res = await fetch(`${collector.url}/v1/identify`, {
      method: 'POST',
      headers: { 'x-device-fingerprint': device, 'user-agent': CHROME, authorization: `Bearer ${jwt(sub)}` },
    });
    expect(res.status).toBe(200);
    await tick();
  };
  const api = async (path: string, token = DASHBOARD_TOKEN) =>
    (await fetch(`${collector.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();

  beforeAll(async () => {
    services = await openServices('e2e-dashboard');
    collector = await startCollectorProcess({
      ...services.env,
      ADMIN_TOKEN,
      DASHBOARD_TOKEN,
      JWT_SECRET,
      QUEUE_PARTITIONS: '4',
    });
    services.defer(() => collector.terminate());
    profile = await launchProfile();
    log = recordRequests(profile.context);

    // Device a: three anonymous pages, alice logs in, two signed-in pages; after her logout one more
    // anonymous page, then bob logs in on the same device.
    const a = deviceId();
    await send(
      { 'x-device-fingerprint': a },
      ['https://shop.test/', 'https://shop.test/pricing'],
      'https://search.test/q',
    );
    await send({ 'x-device-fingerprint': a }, ['https://shop.test/signup']);
    await tick();
    await identify(a, alice);
    await send({ authorization: `Bearer ${jwt(alice)}` }, [
      'https://shop.test/account',
      'https://shop.test/orders',
    ]);
    await send({ 'x-device-fingerprint': a }, ['https://shop.test/after-logout']);
    await tick();
    await identify(a, bob);
    // Device b: two anonymous pages, no login.
    await send({ 'x-device-fingerprint': deviceId() }, ['https://shop.test/', 'https://shop.test/blog']);
    // Device h: a hostile URL, and a login whose sub is hostile too.
    const h = deviceId();
    await send({ 'x-device-fingerprint': h }, [HOSTILE_URL], HOSTILE_URL);
    await tick();
    await identify(h, HOSTILE);
    // Left out of every figure (docs/protocol.md, Bots and automation): a scripted client, and a headless
    // browser that logs in.
    await send({ 'x-device-fingerprint': deviceId(), 'user-agent': 'curl/8.4.0' }, ['https://shop.test/']);
    const headless = deviceId();
    await send(
      { 'x-device-fingerprint': headless, 'user-agent': CHROME.replace('Chrome/', 'HeadlessChrome/') },
      ['https://shop.test/pricing'],
    );
    await tick();
    await identify(headless, `script-${uuidv7()}`);

    // Persisted: 7 anonymous and 2 signed-in page views, 4 sessions, 3 of them converted.
    const from = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 23 * 3_600_000).toISOString();
    const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000).toISOString();
    await waitFor(
      async () => {
        const c = await api(`/v1/admin/insights/conversion?from=${from}&to=${to}&traffic=all`);
        return c.convertedSessions === 4 ? c : null;
      },
      { what: 'the persister to write the conversions', timeoutMs: 30_000 },
    );
  });

  afterAll(async () => {
    await profile?.close();
    await services?.close();
  });

  const cells = (selector: string) =>
    page.locator(selector).evaluateAll((tds) => tds.map((td) => td.textContent ?? ''));
  const ready = (panel: string) =>
    page.waitForFunction(
      (id) => ['ready', 'empty', 'error'].includes(document.getElementById(id)?.dataset.status ?? ''),
      panel,
    );

  test('a wrong token is refused and the dashboard stays closed', async () => {
    page = await profile.context.newPage();
    await page.goto(`${collector.url}/dashboard/`);
    await page.fill('#token', `wrong-${DASHBOARD_TOKEN}`);
    await page.click('#sign-in-form button[type=submit]');
    await expect.poll(() => page.textContent('#sign-in-status')).toBe('This token was refused.');
    expect(await page.isVisible('#board')).toBe(false);
  });

  test('signed in with the read-only token, the chart tables show exactly the page views, sessions and conversions sent', async () => {
    await page.fill('#token', DASHBOARD_TOKEN);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#board', { state: 'visible' });
    await page.selectOption('#range', '24h');
    await page.fill('#tz', 'UTC');
    await page.click('#controls button[type=submit]');
    for (const panel of ['panel-traffic', 'panel-conversion', 'panel-paths', 'panel-top', 'panel-identity'])
      await ready(panel);
    expect(await cells('#traffic-table tfoot td')).toEqual(['Total', '7', '2', '4']);
    expect(await cells('#conversion-table tfoot td')).toEqual(['Total', '4', '3', '75.0 %']);
    expect(await page.locator('#panel-traffic canvas').count()).toBeGreaterThan(0);
    const pages = await cells('#top-pages-table tbody td:first-child');
    expect(pages).toContain('https://shop.test/pricing');
    // Entry pages of converted sessions: alice's first session began at /, bob's at /after-logout.
    const entry = await page
      .locator('#paths-pages-table tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)),
      );
    expect(entry).toContainEqual(['https://shop.test/', '1', '2']);
    expect(entry).toContainEqual(['https://shop.test/after-logout', '1', '1']);
    // What was left out: the crawler and the headless browser, by class and by user agent.
    await ready('panel-excluded');
    const excluded = await page
      .locator('#excluded-classes-table tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(excluded).toEqual([
      ['automation', '1', '1'],
      ['bot', '1', '1'],
    ]);
    expect(await cells('#excluded-agents-table tbody td:nth-child(3)')).toEqual(
      expect.arrayContaining(['ua:curl/', 'ua:headlesschrome']),
    );
    // The whole board, the Excluded traffic panel above Identity quality.
    await screenshot(page, 'dashboard');
    // Ticked, every panel counts them too.
    await page.check('#all-traffic');
    await page.click('#controls button[type=submit]');
    await expect.poll(() => cells('#conversion-table tfoot td')).toEqual(['Total', '6', '4', '66.7 %']);
    expect((await cells('#traffic-table tfoot td'))[1]).toBe('9');
    await page.uncheck('#all-traffic');
    await page.click('#controls button[type=submit]');
    await expect.poll(() => cells('#conversion-table tfoot td')).toEqual(['Total', '4', '3', '75.0 %']);
  });

  test("a user lookup shows the user's pre-login pages and signed-in pages, and no other user's", async () => {
    await page.fill('#lookup-id', alice);
    await page.click('#lookup-form button[type=submit]');
    await ready('panel-lookup');
    await page.waitForSelector('#journey-table tbody tr');
    const rows = await page
      .locator('#journey-table tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.children[1]!.textContent, tr.children[4]!.textContent]));
    expect(rows).toEqual([
      ['no (before login)', 'https://shop.test/'],
      ['no (before login)', 'https://shop.test/pricing'],
      ['no (before login)', 'https://shop.test/signup'],
      ['yes', 'https://shop.test/account'],
      ['yes', 'https://shop.test/orders'],
    ]);
  });

  test('the user lookup follows "Include bots and automation" and lists the logins', async () => {
    await page.check('#all-traffic');
    const asked = page.waitForRequest((r) => r.url().includes('/v1/admin/users/'));
    await page.fill('#lookup-id', alice);
    await page.click('#lookup-form button[type=submit]');
    expect(new URL((await asked).url()).searchParams.get('traffic')).toBe('all');
    await ready('panel-lookup');
    await page.waitForSelector('#journey-links-table tbody tr');
    expect(await page.locator('#journey-links-table tbody tr').count()).toBeGreaterThan(0);
    await page.uncheck('#all-traffic');
  });

  test('a hostile sub and URL render as text', async () => {
    await page.fill('#lookup-id', HOSTILE);
    await page.click('#lookup-form button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#journey-table tbody tr').length === 1);
    expect(await page.textContent('#panel-lookup h3 code')).toBe(HOSTILE);
    // The collector stores URLs percent-encoded; whatever is stored is shown as it is.
    const url = await page.textContent('#journey-table tbody td:nth-child(5)');
    expect(url).toBe('https://shop.test/%3Cimg%20src=x%20onerror=window.__xss=1%3E');
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
  });

  test('a range without data shows the empty state, a refused query the error state', async () => {
    await page.selectOption('#range', 'custom');
    await page.fill('#custom-from', '2020-01-01');
    await page.fill('#custom-to', '2020-01-02');
    await page.click('#controls button[type=submit]');
    await ready('panel-traffic');
    expect(await page.getAttribute('#panel-traffic', 'data-status')).toBe('empty');
    expect(await page.textContent('#panel-traffic [data-state]')).toBe('No data in this range yet.');

    await page.fill('#tz', 'Mars/Olympus_Mons');
    await page.click('#controls button[type=submit]');
    await ready('panel-traffic');
    expect(await page.getAttribute('#panel-traffic', 'data-status')).toBe('error');
    expect(await page.textContent('#panel-traffic [data-state]')).toMatch(
      /Could not load: .*Mars\/Olympus_Mons/,
    );
  });

  test('the read-only token cannot erase; the admin token reads the audit of exports', async () => {
    const erase = await page.evaluate(async (token) => {
      const res = await fetch('/v1/admin/users/someone', {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      return res.status;
    }, DASHBOARD_TOKEN);
    expect(erase).toBe(403);
    const exported = await fetch(`${collector.url}/v1/admin/users/${encodeURIComponent(alice)}/export`, {
      headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` },
    });
    expect(exported.status).toBe(200);
    const doc = (await exported.json()) as { sessionPageViews: unknown[]; signedInPageViews: unknown[] };
    expect([doc.sessionPageViews.length, doc.signedInPageViews.length]).toEqual([3, 2]);
    const audit = await api('/v1/admin/audit', ADMIN_TOKEN);
    expect(audit.entries[0]).toMatchObject({ actor: 'dashboard', action: 'export-user', subject: alice });
    expect(
      (
        await fetch(`${collector.url}/v1/admin/audit`, {
          headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` },
        })
      ).status,
    ).toBe(403);
  });

  test('no token in a URL, a cookie or the log', async () => {
    const tokens = [DASHBOARD_TOKEN, ADMIN_TOKEN, `wrong-${DASHBOARD_TOKEN}`];
    expect(log.all.length).toBeGreaterThan(5);
    for (const e of log.all) for (const t of tokens) expect(e.url).not.toContain(t);
    for (const c of await profile.context.cookies()) for (const t of tokens) expect(c.value).not.toContain(t);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const output = collector.output();
    expect(output).toContain('/v1/admin/insights/timeseries');
    for (const t of tokens) expect(output).not.toContain(t);
    // Signing out forgets it in the tab too.
    await page.click('#sign-out');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
