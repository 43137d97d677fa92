// @vitest-environment happy-dom
/**
 * The collector client: batching, event ids, retries, authenticated events, identify and the flush on
 * page exit, against a real HTTP server through happy-dom's fetch (CORS enforced). Browser globals that
 * happy-dom lacks or cannot drive (sendBeacon, visibilityState, fake timers around fetch) are replaced
 * per test and restored in `finally`.
 */
import { isUuid, STORAGE_KEY } from '@devicelink/protocol';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { isDeviceLinkError } from '../src/index.js';
import { eventually } from './eventually.js';
import { fingerprint } from './fake-fingerprint.js';
import { useDeviceLinks, useTestServer } from './test-server.js';

vi.mock('@fingerprintjs/fingerprintjs', () => import('./fake-fingerprint.js').then((m) => m.install()));

const STORED = 'stored_device_id_0001';

interface SentEvent {
  type: string;
  url: string;
  referrer?: string;
  id: string;
  ts: number;
}

const collector = useTestServer();
const start = useDeviceLinks(collector);
beforeEach(() => {
  localStorage.clear();
  fingerprint.reset();
  collector().received.length = 0;
  collector().answer = () => ({ status: 202, body: { accepted: 1, tracked: true } });
});
const eventRequests = () => collector().received.filter((r) => r.path === '/v1/events');
const eventsOf = (i: number): SentEvent[] => JSON.parse(eventRequests()[i]!.body).events;

/** Replaces a property of a browser object for one test; returns the restore function. */
function replace<T extends object>(target: T, key: string, value: unknown): () => void {
  const own = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, { configurable: true, writable: true, value });
  return () => {
    if (own) Object.defineProperty(target, key, own);
    else delete (target as Record<string, unknown>)[key];
  };
}

describe('page views', () => {
  test('page views are batched into one request, each with its own UUIDv7 id, carrying the device id', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const dl = start({ batch: { size: 3 } });
    dl.pageview('https://app.example.com/a');
    dl.pageview('https://app.example.com/b');
    expect(eventRequests()).toHaveLength(0);
    dl.pageview('https://app.example.com/c');
    await eventually(() => expect(eventRequests()).toHaveLength(1));
    const req = eventRequests()[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['x-device-fingerprint']).toBe(STORED);
    expect(req.headers['content-type']).toBe('application/json');
    const events = eventsOf(0);
    expect(events.map((e) => e.url)).toEqual([
      'https://app.example.com/a',
      'https://app.example.com/b',
      'https://app.example.com/c',
    ]);
    // The referrer is the previous page, reduced to its origin.
    expect(events.map((e) => e.referrer)).toEqual([
      undefined,
      'https://app.example.com',
      'https://app.example.com',
    ]);
    for (const e of events) {
      expect(e.type).toBe('pageview');
      expect(isUuid(e.id)).toBe(true);
      expect(e.id[14]).toBe('7');
      expect(typeof e.ts).toBe('number');
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  test('a smaller batch is sent once delayMs has passed', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const dl = start({ batch: { size: 10, delayMs: 20 } });
    dl.pageview('/one');
    dl.pageview('/two');
    await eventually(() => expect(eventRequests()).toHaveLength(1));
    expect(eventsOf(0).map((e) => e.url)).toEqual(['/one', '/two']);
  });

  test('a failed batch is retried with the same event ids', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    let calls = 0;
    collector().answer = () => (++calls === 1 ? { status: 503 } : { status: 202 });
    const dl = start({ batch: { size: 2, delayMs: 5 } });
    dl.pageview('/a');
    dl.pageview('/b');
    await eventually(() => expect(eventRequests()).toHaveLength(2));
    expect(eventsOf(1)).toEqual(eventsOf(0));
  });

  test('a batch the collector refuses with a 400 is dropped, not retried', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    collector().answer = (req) => (req.body.includes('/bad') ? { status: 400 } : { status: 202 });
    const dl = start({ batch: { size: 1, delayMs: 5 } });
    dl.pageview('/bad');
    await eventually(() => expect(eventRequests()).toHaveLength(1));
    await dl.flush();
    dl.pageview('/good');
    await eventually(() => expect(eventRequests()).toHaveLength(2));
    expect(eventsOf(1).map((e) => e.url)).toEqual(['/good']);
  });

  test('page views made while the app has a token carry Authorization instead of the device header', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    let token: string | null = null;
    const dl = start({ getToken: () => token, batch: { size: 100 } });
    dl.pageview('/anonymous');
    token = 'user.jwt.token';
    dl.pageview('/signed-in');
    await dl.flush();
    const [anonymous, signedIn] = eventRequests();
    expect(anonymous!.headers['x-device-fingerprint']).toBe(STORED);
    expect(anonymous!.headers.authorization).toBeUndefined();
    expect(JSON.parse(anonymous!.body).events.map((e: SentEvent) => e.url)).toEqual(['/anonymous']);
    expect(signedIn!.headers.authorization).toBe('Bearer user.jwt.token');
    expect(signedIn!.headers['x-device-fingerprint']).toBeUndefined();
    expect(JSON.parse(signedIn!.body).events.map((e: SentEvent) => e.url)).toEqual(['/signed-in']);
  });

  test('a page view recorded while a send is finishing is not left behind', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const dl = start({ batch: { size: 1, delayMs: 60_000 } });
    // Regression: this flush finds nothing to send, and the next push used to join it and be stranded.
    void dl.flush();
    dl.pageview('/right-after');
    await eventually(() => expect(eventRequests()).toHaveLength(1));
    expect(eventsOf(0).map((e) => e.url)).toEqual(['/right-after']);
  });

  test('a page hidden while a send is starting does not stop later sends', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const restore = replace(navigator, 'sendBeacon', () => true);
    try {
      const dl = start({ batch: { size: 1 } });
      // The send has started; before it takes the queue, the page is hidden and the beacon takes it.
      dl.pageview('/first');
      window.dispatchEvent(new Event('pagehide'));
      // Regression: the resumed send found an empty queue, threw, and poisoned every later send.
      await expect(dl.flush()).resolves.toBeUndefined();
      dl.pageview('/later');
      await eventually(() => expect(eventRequests()).toHaveLength(1));
      expect(eventsOf(0).map((e) => e.url)).toEqual(['/later']);
      expect(eventRequests()[0]!.headers['x-device-fingerprint']).toBe(STORED);
    } finally {
      restore();
    }
  });

  test('withdrawing consent while a send is starting does not stop sends after a new grant', async () => {
    const dl = start({ batch: { size: 1 } });
    dl.pageview('/first');
    dl.setConsent('denied');
    await expect(dl.flush()).resolves.toBeUndefined();
    dl.setConsent('granted');
    dl.pageview('/after-grant');
    await eventually(() => expect(eventRequests()).toHaveLength(1));
    expect(eventsOf(0).map((e) => e.url)).toEqual(['/after-grant']);
  });

  test('the same URL twice in a row is one page view', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const dl = start({ batch: { size: 100 } });
    dl.pageview('/same');
    dl.pageview('/same');
    await dl.flush();
    expect(eventsOf(0)).toHaveLength(1);
  });
});

describe('flush when the page goes away', () => {
  test('pagehide sends waiting page views with sendBeacon, the device id and consent in the body', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const beacons: { url: string; body: string }[] = [];
    const restore = replace(navigator, 'sendBeacon', (url: string, body: string) => {
      beacons.push({ url, body });
      return true;
    });
    try {
      const dl = start({ batch: { size: 100, delayMs: 60_000 } });
      dl.pageview('/a');
      dl.pageview('/b');
      window.dispatchEvent(new Event('pagehide'));
      expect(beacons).toHaveLength(1);
      expect(beacons[0]!.url).toBe(`${collector().origin}/v1/events`);
      const body = JSON.parse(beacons[0]!.body);
      expect(body.deviceId).toBe(STORED);
      expect(body.consent).toBe('granted');
      expect(body.events.map((e: SentEvent) => e.url)).toEqual(['/a', '/b']);
      expect(body.events.every((e: SentEvent) => isUuid(e.id))).toBe(true);
      // Sent once: nothing is left for a second exit.
      window.dispatchEvent(new Event('pagehide'));
      expect(beacons).toHaveLength(1);
    } finally {
      restore();
    }
  });

  test('visibilitychange to hidden flushes too', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const beacons: string[] = [];
    const restoreBeacon = replace(
      navigator,
      'sendBeacon',
      (_url: string, body: string) => beacons.push(body) > 0,
    );
    const restoreVisibility = replace(document, 'visibilityState', 'hidden');
    try {
      const dl = start({ batch: { size: 100, delayMs: 60_000 } });
      dl.pageview('/a');
      document.dispatchEvent(new Event('visibilitychange'));
      expect(beacons).toHaveLength(1);
      expect(JSON.parse(beacons[0]!).deviceId).toBe(STORED);
    } finally {
      restoreVisibility();
      restoreBeacon();
    }
  });

  test('when the beacon is refused the page views go by fetch with keepalive', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const restore = replace(navigator, 'sendBeacon', () => false);
    try {
      const dl = start({ batch: { size: 100, delayMs: 60_000 } });
      dl.pageview('/a');
      window.dispatchEvent(new Event('pagehide'));
      await eventually(() => expect(eventRequests()).toHaveLength(1));
      expect(eventRequests()[0]!.headers['x-device-fingerprint']).toBe(STORED);
    } finally {
      restore();
    }
  });

  test('authenticated page views are not beaconed (a beacon cannot carry the token)', async () => {
    const beacon = vi.fn(() => true);
    const restore = replace(navigator, 'sendBeacon', beacon);
    try {
      const dl = start({ getToken: () => 'user.jwt.token', batch: { size: 100, delayMs: 60_000 } });
      dl.pageview('/a');
      window.dispatchEvent(new Event('pagehide'));
      await eventually(() => expect(eventRequests()).toHaveLength(1));
      expect(beacon).not.toHaveBeenCalled();
      expect(eventRequests()[0]!.headers.authorization).toBe('Bearer user.jwt.token');
    } finally {
      restore();
    }
  });
});

describe('identify', () => {
  test('posts /v1/identify with the bearer token and the device header together, after waiting page views', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    collector().answer = (req) =>
      req.path === '/v1/identify'
        ? { body: { userId: 'user-1', deviceId: STORED, sessionId: 'sess-1' } }
        : { status: 202 };
    const dl = start({ batch: { size: 100, delayMs: 60_000 } });
    dl.pageview('/before-login');
    const result = await dl.identify('user.jwt.token');
    expect(result).toEqual({ userId: 'user-1', deviceId: STORED, sessionId: 'sess-1' });
    expect(collector().received.map((r) => r.path)).toEqual(['/v1/events', '/v1/identify']);
    const identify = collector().received[1]!;
    expect(identify.method).toBe('POST');
    expect(identify.headers.authorization).toBe('Bearer user.jwt.token');
    expect(identify.headers['x-device-fingerprint']).toBe(STORED);
  });

  test.each(['pending', 'denied'] as const)(
    'identify under %s consent sends X-Device-Consent: denied and omits credentials, so no device cookie is linked',
    async (consent) => {
      const seen = vi.spyOn(globalThis, 'fetch');
      try {
        const dl = start({ consent });
        await dl.identify('user.jwt.token');
        const identify = collector().received.find((r) => r.path === '/v1/identify')!;
        expect(identify.headers['x-device-consent']).toBe('denied');
        expect(identify.headers['x-device-fingerprint']).toBeUndefined();
        const init = seen.mock.calls.find(([url]) => String(url).endsWith('/v1/identify'))![1]!;
        expect(init.credentials).toBe('omit');
      } finally {
        seen.mockRestore();
      }
    },
  );

  test('identify under granted consent sends credentials, so the device cookie works cross-origin', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const seen = vi.spyOn(globalThis, 'fetch');
    try {
      const dl = start();
      await dl.identify('user.jwt.token');
      const init = seen.mock.calls.find(([url]) => String(url).endsWith('/v1/identify'))![1]!;
      expect(init.credentials).toBe('include');
    } finally {
      seen.mockRestore();
    }
  });

  test('a refused identify is an { error } value, not a rejection', async () => {
    collector().answer = () => ({ status: 401, body: { code: 'DL_UNAUTHORIZED' } });
    const dl = start();
    const result = await dl.identify('bad.token');
    expect('error' in result && isDeviceLinkError(result.error)).toBe(true);
    expect('error' in result && result.error.status).toBe(401);
  });

  test('an unreachable collector is an { error } value with status 0', async () => {
    const dl = start({ collector: 'http://127.0.0.1:9' });
    const result = await dl.identify('t');
    expect('error' in result && result.error.status).toBe(0);
  });
});
