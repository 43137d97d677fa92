/**
 * Bots and automation in real Chromium (docs/protocol.md, Bots and automation), with the bot
 * filter on: the SDK's app page in three browsers on one network: a person's (a desktop user agent,
 * `--disable-blink-features=AutomationControlled`, so `navigator.webdriver` is false), the same browser
 * driven (`navigator.webdriver` true: only the page can tell, its user agent is the person's) and
 * headless Chromium with its own user agent. What the collector stored is read back: the person's page
 * views count; the driven browser's are automation by its page's signal (`sdk:webdriver`), its
 * fingerprint evidence carried the signal and made no join; the headless one is automation by its user
 * agent. The figures count the person only, and all three with `traffic=all`.
 */
import { randomBytes } from 'node:crypto';
import { hasServices, testEnv, waitFor } from '@devicelink/test-env';
import { type Browser, chromium, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deviceDetail } from './support/admin-api.js';
import { CHROMIUM_ARGS } from './support/browser.js';
import { ADMIN_TOKEN, type CollectorOnServices, startOnServices } from './support/collector-process.js';
import { serveSdkApp } from './support/sdk-app.js';
import type { RunningServer } from './support/static-servers.js';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36';
const NETWORK = '198.51.100.7';
const HOUR = 3_600_000;

/** What one browser did: its device id and the bodies it sent. */
interface Visit {
  deviceId: string;
  events: { automation?: string[]; events: { url: string }[] }[];
  evidence: { visitorId: string; automation?: string[] } | null;
}

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('bots and automation in Chromium', () => {
  let env: CollectorOnServices;
  let app: RunningServer;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    app = await serveSdkApp(() => ({ collector: env.collector.url, api: env.collector.url }));
    env = await startOnServices('e2e-bots', {
      BOT_FILTER: 'on',
      CORS_ORIGINS: app.origin,
      // The browsers' network comes in X-Forwarded-For from 127.0.0.1.
      TRUST_PROXY: '127.0.0.1',
      RECOVERY_SECRET: randomBytes(24).toString('hex'),
    });
  });

  afterAll(async () => {
    await Promise.all(browsers.map((b) => b.close().catch(() => {})));
    await env?.close();
    await app?.close();
  });

  /** Chromium as a person runs it, or driven (the default of a WebDriver or CDP client). */
  async function launch(driven: boolean): Promise<Browser> {
    const browser = await chromium.launch({
      executablePath: testEnv.chromiumPath!,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(driven ? [] : ['--disable-blink-features=AutomationControlled'])],
    });
    browsers.push(browser);
    return browser;
  }

  /** A first visit: the app page, a second page view, and the fingerprint evidence of the minted id. */
  async function visit(browser: Browser, userAgent: string | null): Promise<Visit> {
    const context = await browser.newContext(userAgent ? { userAgent } : {});
    await context.setExtraHTTPHeaders({ 'X-Forwarded-For': NETWORK });
    const out: Visit = { deviceId: '', events: [], evidence: null };
    const body = (r: Request) => JSON.parse(r.postData() ?? 'null');
    context.on('request', (r) => {
      if (r.method() !== 'POST') return;
      const path = new URL(r.url()).pathname;
      if (path === '/v1/events') out.events.push(body(r));
      if (path === '/v1/device/fingerprint') out.evidence = body(r);
    });
    const page = await context.newPage();
    const evidence = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/device/fingerprint', {
      timeout: 30_000,
    });
    await page.goto(`${app.origin}/`);
    await page.waitForFunction(() => window.e2eApp !== undefined);
    await page.evaluate(() => {
      window.e2eApp!.dl.pageview(`${location.origin}/pricing`);
      return window.e2eApp!.dl.flush();
    });
    expect((await evidence).status()).toBe(202);
    out.deviceId = (await page.evaluate(() => window.e2eApp!.dl.deviceId()))!;
    await context.close();
    return out;
  }

  /** The device's stored sessions, once its `pageViews` page views are persisted. */
  const persisted = (deviceId: string, pageViews: number) =>
    waitFor(
      async () => {
        const d = await deviceDetail(env.collector.url, deviceId);
        return d.persisted.pageViews >= pageViews ? d : null;
      },
      { what: `the page views of ${deviceId}`, timeoutMs: 30_000 },
    );

  test('the page views of a driven browser are automation, by its page or its user agent; a person counts', async () => {
    const person = await visit(await launch(false), CHROME);
    const driven = await launch(true);
    const webdriver = await visit(driven, CHROME);
    const headless = await visit(driven, null);

    // What each page sent: only a driven page reports a signal, with every page view and its evidence.
    expect(person.events.every((b) => b.automation === undefined)).toBe(true);
    expect(person.evidence).not.toHaveProperty('automation');
    expect(webdriver.events.map((b) => b.automation)).toEqual(webdriver.events.map(() => ['webdriver']));
    expect(webdriver.evidence?.automation).toEqual(['webdriver']);
    expect(headless.events.length).toBeGreaterThan(0);

    const stored = async (v: Visit) => {
      const d = await persisted(v.deviceId, 2);
      return d.persisted.sessions.map((s) => [
        (s as unknown as { trafficClass: string }).trafficClass,
        (s as unknown as { trafficReason: string | null }).trafficReason,
      ]);
    };
    expect(await stored(person)).toEqual([['human', null]]);
    expect(await stored(webdriver)).toEqual([['automation', 'sdk:webdriver']]);
    expect((await stored(headless))[0]![0]).toBe('automation');
    expect((await stored(headless))[0]![1]).toMatch(/^ua:headless/);
    // Evidence from a driven page never reaches the join code: no join names it.
    for (const v of [webdriver, headless]) {
      const d = await deviceDetail(env.collector.url, v.deviceId);
      expect(d.edges.filter((e) => e.kind === 'join')).toEqual([]);
    }

    // The figures count the person; traffic=all counts the three; the excluded panel names the others.
    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR).toISOString();
    const to = new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR).toISOString();
    const read = async (path: string) =>
      (
        await fetch(`${env.collector.url}${path}${path.includes('?') ? '&' : '?'}from=${from}&to=${to}`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).json();
    expect(await read('/v1/admin/stats')).toMatchObject({ sessionsStarted: 1, devices: 1 });
    expect(await read('/v1/admin/stats?traffic=all')).toMatchObject({ sessionsStarted: 3, devices: 3 });
    const excluded = await read('/v1/admin/insights/excluded');
    expect(excluded.byClass).toEqual([{ trafficClass: 'automation', sessions: 2, pageViews: 4 }]);
    expect(excluded.topUserAgents).toContainEqual({
      userAgent: CHROME,
      trafficClass: 'automation',
      reason: 'sdk:webdriver',
      sessions: 1,
    });
  });
});
