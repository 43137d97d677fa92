// @vitest-environment happy-dom
/**
 * Logout on a shared computer never hands the next person the previous id (docs/protocol.md, SDK): after
 * `reset()`, `forget()` and a grant that follows a withdrawal, the new id never yields to the old cookie nor
 * adopts an echo, and names the id it replaces in `X-Device-Replaces` (fetch only) until answered 2xx; every
 * failure on the way reaches `onError`. Against a real collector-like server (test-server.ts) through
 * happy-dom's fetch, which keeps cookies and enforces CORS.
 */
import { STORAGE_KEY } from '@devicelink/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  createDeviceLink,
  type DeviceLink,
  type DeviceLinkError,
  type DeviceLinkOptions,
} from '../src/index.js';
import { eventually } from './eventually.js';
import { collectorAnswer, cookieOf, type Received, startServer, type TestServer } from './test-server.js';

const fake = await vi.hoisted(() => import('./fake-fingerprint.js'));
vi.mock('@fingerprintjs/fingerprintjs', () => fake.install());

const OLD = 'previous_person_id_001';
let collector: TestServer;
const running: DeviceLink[] = [];
let errors: DeviceLinkError[] = [];

beforeAll(async () => {
  collector = await startServer();
});
afterAll(() => collector.close());
beforeEach(async () => {
  localStorage.clear();
  fake.fingerprint.reset();
  errors = [];
  collector.answer = collectorAnswer;
  collector.allowMethods = 'GET, POST, PUT, DELETE';
  // The previous person's id, in localStorage and in the collector's cookie.
  localStorage.setItem(STORAGE_KEY, OLD);
  await fetch(`${collector.origin}/v1/events`, {
    method: 'POST',
    headers: { 'X-Device-Fingerprint': OLD },
    credentials: 'include',
  });
  collector.received.length = 0;
});
afterEach(() => {
  for (const dl of running.splice(0)) dl.stop();
});

function load(options: Partial<DeviceLinkOptions> = {}): DeviceLink {
  const dl = createDeviceLink({
    collector: collector.origin,
    autoPageviews: false,
    batch: { size: 1 },
    onError: (e) => errors.push(e),
    ...options,
  });
  running.push(dl);
  return dl;
}

const events = () => collector.received.filter((r) => r.path === '/v1/events');
const sent = (r: Received | undefined) => [
  r?.headers['x-device-fingerprint'],
  r?.headers['x-device-fresh'],
  r?.headers['x-device-replaces'],
];

async function viewed(dl: DeviceLink, url: string): Promise<Received> {
  const before = events().length;
  dl.pageview(url);
  await eventually(() => expect(events().length).toBe(before + 1));
  return events().at(-1)!;
}

/** Runs `work` with a `navigator.sendBeacon` that records its bodies (a browser global, restored after). */
async function withBeacon(work: (beacons: string[]) => Promise<void>): Promise<void> {
  const beacons: string[] = [];
  const own = Object.getOwnPropertyDescriptor(navigator, 'sendBeacon');
  Object.defineProperty(navigator, 'sendBeacon', {
    configurable: true,
    value: (_url: string, body: string) => beacons.push(body) > 0,
  });
  try {
    await work(beacons);
  } finally {
    if (own) Object.defineProperty(navigator, 'sendBeacon', own);
    else delete (navigator as { sendBeacon?: unknown }).sendBeacon;
  }
}

describe('logout when the cookie DELETE fails', () => {
  test.each([
    ['reset', (dl: DeviceLink) => dl.reset(), 'DELETE /v1/device/cookie: HTTP 500'],
    ['forget', (dl: DeviceLink) => dl.forget(), 'DELETE /v1/device: HTTP 500'],
  ])(
    'after %s the next person gets a new id that never yields to the old cookie',
    async (_, logout, failure) => {
      collector.answer = (req) => (req.method === 'DELETE' ? { status: 500 } : { status: 503 });
      const dl = load();
      const result = await logout(dl);
      expect('error' in result && result.error.message).toBe(failure);
      const next = dl.deviceId()!;
      expect(next).not.toBe(OLD);
      expect(localStorage.getItem(STORAGE_KEY)).toBe(next);
      // The old cookie is still there; the request that names it fails.
      const failed = await viewed(dl, '/next-person');
      expect(cookieOf(failed)).toBe(OLD);
      expect(sent(failed)).toEqual([next, undefined, OLD]);
      // The page goes away: what waits leaves by fetch with the marker, never by a beacon.
      await withBeacon(async (beacons) => {
        collector.received.length = 0;
        dl.stop();
        await eventually(() => expect(events()).toHaveLength(1));
        expect(beacons).toEqual([]);
        expect(sent(events()[0])).toEqual([next, undefined, OLD]);
      });
      // A later page load: the collector echoes the old cookie with a 2xx. Never adopted; the marker ends.
      collector.answer = (req) => ({ status: 202, echo: cookieOf(req) });
      const later = load();
      expect(sent(await viewed(later, '/reload'))).toEqual([next, undefined, OLD]);
      expect(later.deviceId()).toBe(next);
      expect(sent(await viewed(later, '/after'))).toEqual([next, undefined, undefined]);
      expect(localStorage.getItem('devicelink:device-replaces')).toBeNull();
      expect(later.deviceIdSource()).toBe('stored');
      expect(fake.fingerprint.loads).toEqual([]);
      expect(errors.map((e) => e.message)).toContain(failure);
      expect(errors.map((e) => e.message)).toContain('POST /v1/events: HTTP 503');
    },
  );

  test('after reset the app API gets the marker too, and its echo of the old id is never adopted', async () => {
    const dl = load();
    await dl.reset();
    const next = dl.deviceId();
    expect(dl.headersFor('/api/me')).toEqual({ 'X-Device-Fingerprint': next, 'X-Device-Replaces': OLD });
    dl.receive('/api/me', undefined, next, OLD);
    expect(dl.deviceId()).toBe(next);
  });
});

describe('every failure reaches onError', () => {
  test('a collector whose CORS refuses DELETE: reset, forget and withdrawal report "network error or CORS refusal"', async () => {
    collector.allowMethods = 'GET, HEAD, POST';
    const dl = load();
    const reset = await dl.reset();
    const message = 'DELETE /v1/device/cookie: network error or CORS refusal';
    expect('error' in reset && [reset.error.status, reset.error.message]).toEqual([0, message]);
    expect(errors.map((e) => [e.name, e.message])).toEqual([['CollectorError', message]]);
    await dl.forget();
    expect(errors.at(-1)?.message).toBe('DELETE /v1/device: network error or CORS refusal');
    dl.setConsent('denied');
    await eventually(() =>
      expect(errors.at(-1)?.message).toBe('DELETE /v1/device/recovery: network error or CORS refusal'),
    );
  });

  test('an unreachable collector: identify and page views report status 0', async () => {
    const closed = await startServer();
    await closed.close();
    const dl = load({ collector: closed.origin });
    const identify = await dl.identify('user.jwt.token');
    expect('error' in identify && identify.error.status).toBe(0);
    dl.pageview('/lost');
    await eventually(() =>
      expect(errors.map((e) => e.message)).toContain('POST /v1/events: network error or CORS refusal'),
    );
    expect(errors.map((e) => e.message)).toContain('POST /v1/identify: network error or CORS refusal');
    // Drop the page view still queued for a retry: stop() would hand it to happy-dom's sendBeacon, whose
    // fetch to the closed port rejects unhandled (a browser's sendBeacon never rejects).
    dl.setConsent('denied');
  });
});

describe('withdrawal and a later grant', () => {
  test('withdrawal clears the stored id; a grant starts a new id that names the withdrawn one, never the cookie', async () => {
    const dl = load();
    expect(dl.deviceId()).toBe(OLD);
    dl.setConsent('denied');
    expect(localStorage.getItem(STORAGE_KEY)).toBeNull();
    await eventually(() => expect(collector.received.map((r) => r.path)).toEqual(['/v1/device/recovery']));
    // Suppose the withdrawal's cookie clearing was lost: the collector still echoes the old cookie.
    collector.answer = () => ({ status: 202, echo: OLD });
    dl.setConsent('granted');
    const next = dl.deviceId()!;
    expect([next === OLD, dl.deviceIdSource()]).toEqual([false, 'minted']);
    const req = await viewed(dl, '/after-grant');
    expect(sent(req)).toEqual([next, undefined, OLD]);
    expect(dl.deviceId()).toBe(next);
    expect(localStorage.getItem(STORAGE_KEY)).toBe(next);
    // Never fingerprinted: nothing may join this browser to its past.
    await dl.flush();
    expect(fake.fingerprint.loads).toEqual([]);
    expect(collector.received.filter((r) => r.path === '/v1/device/fingerprint')).toEqual([]);
  });
});
