// @vitest-environment happy-dom
/**
 * The page's automation signals on page views (docs/protocol.md, Bots and automation): every events
 * request and the exit beacon carry `"automation": [...]` when the page shows a driven browser's marks
 * (happy-dom's `navigator.webdriver` is true, as under WebDriver, Puppeteer or Playwright), and nothing
 * when it shows none, so the collector stores a driven browser's page views as automation even when its
 * user agent looks like a person's.
 */
import { STORAGE_KEY } from '@devicelink/protocol';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { eventually } from './eventually.js';
import { useDeviceLinks, useTestServer } from './test-server.js';

vi.mock('@fingerprintjs/fingerprintjs', () => import('./fake-fingerprint.js').then((m) => m.install()));

const STORED = 'stored_device_id_0001';
const collector = useTestServer();
const start = useDeviceLinks(collector);
const restores: (() => void)[] = [];
beforeEach(() => {
  localStorage.setItem(STORAGE_KEY, STORED);
  collector().received.length = 0;
  collector().answer = () => ({ status: 202, body: { accepted: 1, tracked: true } });
});
afterEach(() => {
  for (const restore of restores.splice(0).reverse()) restore();
  localStorage.clear();
});

/** Replaces a property of a browser object until the test ends. */
function replace<T extends object>(target: T, key: string, value: unknown): void {
  const own = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, { configurable: true, writable: true, value });
  restores.push(() => {
    if (own) Object.defineProperty(target, key, own);
    else delete (target as Record<string, unknown>)[key];
  });
}

const bodies = () =>
  collector()
    .received.filter((r) => r.path === '/v1/events')
    .map((r) => JSON.parse(r.body) as { automation?: string[]; events: { url: string }[] });

describe('automation signals on page views', () => {
  test("a driven page's every events request carries its signals, the first one included", async () => {
    expect(navigator.webdriver).toBe(true);
    const dl = start({ batch: { size: 1 } });
    dl.pageview('/first');
    await eventually(() => expect(bodies()).toHaveLength(1));
    dl.pageview('/second');
    await eventually(() => expect(bodies()).toHaveLength(2));
    expect(bodies().map((b) => [b.automation, b.events.map((e) => e.url)])).toEqual([
      [['webdriver'], ['/first']],
      [['webdriver'], ['/second']],
    ]);
  });

  test('an ordinary page sends no automation field', async () => {
    replace(Object.getPrototypeOf(navigator), 'webdriver', false);
    expect(navigator.webdriver).toBe(false);
    const dl = start({ batch: { size: 1 } });
    dl.pageview('/plain');
    await eventually(() => expect(bodies()).toHaveLength(1));
    expect(bodies()[0]).not.toHaveProperty('automation');
  });

  test('the exit beacon carries the signals once they are known', async () => {
    const beacons: string[] = [];
    replace(navigator, 'sendBeacon', (_url: string, body: string) => beacons.push(body) > 0);
    const dl = start({ batch: { size: 100, delayMs: 60_000 } });
    // Once the chunk has answered (the first request waits for it), a beacon has the signals too.
    dl.pageview('/staying');
    await dl.flush();
    expect(bodies()).toHaveLength(1);
    dl.pageview('/leaving');
    window.dispatchEvent(new Event('pagehide'));
    expect(beacons).toHaveLength(1);
    expect(JSON.parse(beacons[0]!)).toMatchObject({ automation: ['webdriver'], deviceId: STORED });
  });
});
