// @vitest-environment happy-dom
/**
 * Automatic page views: the first page at start, then every client-side navigation, through the
 * Navigation API where present, else a history wrapper that becomes a pass-through on stop.
 */
import { STORAGE_KEY } from '@devicelink/protocol';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { createDeviceLink, type DeviceLink } from '../src/index.js';
import { eventually } from './eventually.js';
import { startServer, type TestServer } from './test-server.js';

vi.mock('@fingerprintjs/fingerprintjs', () => import('./fake-fingerprint.js').then((m) => m.install()));

let collector: TestServer;
const running: DeviceLink[] = [];

// A collector per test: what a stopped DeviceLink sends on its way out never lands in the next test.
beforeEach(async () => {
  collector = await startServer();
  collector.answer = () => ({ status: 202 });
  localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
  history.replaceState(null, '', '/start');
});
afterEach(async () => {
  for (const dl of running.splice(0)) dl.stop();
  localStorage.clear();
  await collector.close();
});

function start(): DeviceLink {
  const dl = createDeviceLink({ collector: collector.origin, batch: { size: 100, delayMs: 60_000 } });
  running.push(dl);
  return dl;
}

async function sent(dl: DeviceLink): Promise<{ url: string; referrer?: string }[]> {
  await dl.flush();
  return collector.received.flatMap((r) => JSON.parse(r.body).events);
}

describe('automatic page views with the history wrapper', () => {
  test('the current page is viewed at start, then every pushState and popstate, never a repeat', async () => {
    const origin = location.origin;
    const dl = start();
    history.pushState(null, '', '/products');
    history.replaceState({ scroll: 1 }, '', '/products');
    history.replaceState(null, '', '/products?utm_campaign=spring');
    window.dispatchEvent(new PopStateEvent('popstate'));
    history.back();
    await eventually(() => expect(location.pathname).toBe('/start'));
    window.dispatchEvent(new PopStateEvent('popstate'));
    const events = await sent(dl);
    expect(events.map((e) => e.url)).toEqual([
      `${origin}/start`,
      `${origin}/products`,
      `${origin}/products?utm_campaign=spring`,
      `${origin}/start`,
    ]);
    // Of the previous page only its origin leaves the browser.
    expect(events[1]!.referrer).toBe(origin);
  });

  test('stop turns the wrapper into a pass-through instead of restoring it, so later wrappers survive', async () => {
    const original = history.pushState;
    const dl = start();
    const ours = history.pushState;
    expect(ours).not.toBe(original);
    // Another tool wraps after us.
    const seen: string[] = [];
    history.pushState = function (this: History, ...args: Parameters<History['pushState']>) {
      seen.push(String(args[2]));
      return ours.apply(this, args);
    };
    const theirs = history.pushState;
    try {
      dl.stop();
      expect(history.pushState).toBe(theirs);
      history.pushState(null, '', '/after-stop');
      expect(location.pathname).toBe('/after-stop');
      expect(seen).toEqual(['/after-stop']);
      window.dispatchEvent(new PopStateEvent('popstate'));
      // stop() sent what was waiting (the first page); nothing after it.
      await eventually(() => expect(collector.received).toHaveLength(1));
      const urls = JSON.parse(collector.received[0]!.body).events.map((e: { url: string }) => e.url);
      expect(urls).toEqual([`${location.origin}/start`]);
    } finally {
      history.pushState = original;
    }
  });
});

describe('automatic page views with the Navigation API', () => {
  test('one listener on navigation: currententrychange records the page, history is left alone', async () => {
    const navigation = new EventTarget();
    Object.defineProperty(window, 'navigation', { configurable: true, value: navigation });
    const pushState = history.pushState;
    try {
      const dl = start();
      expect(history.pushState).toBe(pushState);
      history.pushState(null, '', '/via-navigation');
      navigation.dispatchEvent(new Event('currententrychange'));
      dl.stop();
      history.pushState(null, '', '/after-stop');
      navigation.dispatchEvent(new Event('currententrychange'));
      await eventually(() => expect(collector.received).toHaveLength(1));
      const urls = JSON.parse(collector.received[0]!.body).events.map((e: { url: string }) => e.url);
      expect(urls).toEqual([`${location.origin}/start`, `${location.origin}/via-navigation`]);
    } finally {
      delete (window as { navigation?: unknown }).navigation;
    }
  });
});
