// @vitest-environment happy-dom
/**
 * The device id against a real collector-like server (test-server.ts: the `device_fp` cookie, the fresh
 * flag, the identity routes), through happy-dom's fetch, which keeps cookies and enforces CORS. A new
 * DeviceLink over the same localStorage and cookies stands for a later page load.
 */
import { isValidDeviceId, STORAGE_KEY } from '@devicelink/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  createDeviceLink,
  type DeviceLink,
  type DeviceLinkError,
  type DeviceLinkOptions,
  isDeviceLinkError,
} from '../src/index.js';
import { eventually } from './eventually.js';
import { collectorAnswer, cookieOf, type Received, startServer, type TestServer } from './test-server.js';

// The fake is imported before the mock is registered, so the factory answers synchronously: with an
// asynchronous factory, the first import from inside a lazily imported chunk sometimes got the real
// FingerprintJS under load.
const fake = await vi.hoisted(() => import('./fake-fingerprint.js'));
vi.mock('@fingerprintjs/fingerprintjs', () => fake.install());

const VISITOR = '0123456789abcdef0123456789abcdef';
const PENDING = 'devicelink:fp-pending';

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
  // No cookie from an earlier test: the collector clears it.
  await fetch(`${collector.origin}/v1/device/cookie`, { method: 'DELETE', credentials: 'include' });
  collector.received.length = 0;
});
afterEach(() => {
  for (const dl of running.splice(0)) dl.stop();
});

/** A page load: a DeviceLink that sends each page view at once. */
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

const requests = (path: string) => collector.received.filter((r) => r.path === path);
const idOf = (r: Received | undefined) => r?.headers['x-device-fingerprint'];
const freshOf = (r: Received | undefined) => r?.headers['x-device-fresh'];
const replacesOf = (r: Received | undefined) => r?.headers['x-device-replaces'];

async function viewed(dl: DeviceLink, url: string): Promise<Received> {
  const before = requests('/v1/events').length;
  dl.pageview(url);
  await eventually(() => expect(requests('/v1/events').length).toBe(before + 1));
  return requests('/v1/events').at(-1)!;
}

describe('a first visit', () => {
  test('mints an id at once, sends it fresh until answered, and the collector keeps it in its cookie', async () => {
    const dl = load();
    const first = await viewed(dl, '/one');
    const id = idOf(first) as string;
    expect(isValidDeviceId(id)).toBe(true);
    expect(id).toHaveLength(22);
    expect(freshOf(first)).toBe('1');
    expect(cookieOf(first)).toBeNull();
    expect(dl.deviceIdSource()).toBe('minted');
    const second = await viewed(dl, '/two');
    expect([idOf(second), freshOf(second), cookieOf(second)]).toEqual([id, undefined, id]);
    expect(localStorage.getItem(STORAGE_KEY)).toBe(id);
  });

  test('the fingerprint runs once, lazily, and its visitorId goes once to POST /v1/device/fingerprint', async () => {
    const dl = load();
    const id = idOf(await viewed(dl, '/one'));
    await eventually(() => expect(fake.fingerprint.loads).toEqual([{ monitoring: false }]));
    expect(localStorage.getItem(PENDING)).toBe(id);
    fake.fingerprint.visitorId.resolve(VISITOR);
    await eventually(() => expect(requests('/v1/device/fingerprint')).toHaveLength(1));
    const evidence = requests('/v1/device/fingerprint')[0]!;
    expect(evidence.method).toBe('POST');
    expect(idOf(evidence)).toBe(id);
    // happy-dom's navigator.webdriver is true (a driven page): the automation signals ride along.
    expect(JSON.parse(evidence.body)).toEqual({
      visitorId: VISITOR,
      deviceId: id,
      fresh: true,
      automation: ['webdriver'],
    });
    await eventually(() => expect(localStorage.getItem(PENDING)).toBeNull());
    // A later page load neither fingerprints nor sends evidence again.
    fake.fingerprint.reset();
    const later = load();
    await viewed(later, '/later');
    await later.flush();
    expect(fake.fingerprint.loads).toEqual([]);
    expect(requests('/v1/device/fingerprint')).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  test('evidence not sent before the page closed is sent on a later page load', async () => {
    const first = load();
    const id = idOf(await viewed(first, '/one'));
    await eventually(() => expect(fake.fingerprint.loads).toHaveLength(1));
    first.stop();
    // The first page is gone: its fingerprint never finishes.
    fake.fingerprint.reset();
    const later = load();
    expect(later.deviceId()).toBe(id);
    expect(later.deviceIdSource()).toBe('stored');
    await eventually(() => expect(fake.fingerprint.loads).toHaveLength(1));
    fake.fingerprint.visitorId.resolve(VISITOR);
    await eventually(() => expect(requests('/v1/device/fingerprint')).toHaveLength(1));
    expect(idOf(requests('/v1/device/fingerprint')[0])).toBe(id);
    await eventually(() => expect(localStorage.getItem(PENDING)).toBeNull());
  });

  test('a beacon carries the fresh flag in its body while the id is fresh', async () => {
    const beacons: string[] = [];
    const own = Object.getOwnPropertyDescriptor(navigator, 'sendBeacon');
    Object.defineProperty(navigator, 'sendBeacon', {
      configurable: true,
      value: (_url: string, body: string) => beacons.push(body) > 0,
    });
    try {
      const dl = load({ batch: { size: 100, delayMs: 60_000 } });
      dl.pageview('/a');
      window.dispatchEvent(new Event('pagehide'));
      const body = JSON.parse(beacons[0]!);
      expect(body.deviceId).toBe(dl.deviceId());
      expect(body.fresh).toBe(true);
    } finally {
      if (own) Object.defineProperty(navigator, 'sendBeacon', own);
      else delete (navigator as { sendBeacon?: unknown }).sendBeacon;
    }
  });
});

describe('storage lost', () => {
  test('a browser that lost only localStorage yields its fresh id to the cookie, and never loads or computes a fingerprint', async () => {
    const before = idOf(await viewed(load(), '/before'));
    for (const dl of running.splice(0)) dl.stop();
    localStorage.clear();
    fake.fingerprint.reset();
    const dl = load();
    const req = await viewed(dl, '/after');
    await eventually(() => expect(dl.deviceId()).toBe(before));
    expect(idOf(req)).not.toBe(before);
    expect(freshOf(req)).toBe('1');
    expect(cookieOf(req)).toBe(before);
    expect(dl.deviceId()).toBe(before);
    expect(dl.deviceIdSource()).toBe('cookie');
    expect(localStorage.getItem(STORAGE_KEY)).toBe(before);
    expect(localStorage.getItem(PENDING)).toBeNull();
    fake.fingerprint.visitorId.resolve(VISITOR);
    await dl.flush();
    const next = await viewed(dl, '/next');
    expect([idOf(next), freshOf(next)]).toEqual([before, undefined]);
    expect(requests('/v1/device/fingerprint')).toEqual([]);
    // The id was answered as yielded before any evidence was started: FingerprintJS never ran.
    expect(fake.fingerprint.loads).toEqual([]);
  });

  test('a stored id that meets another cookie is sent without the fresh flag and kept', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    collector.answer = () => ({ status: 202, echo: 'cookie_device_id_0002' });
    const dl = load();
    const req = await viewed(dl, '/x');
    expect([idOf(req), freshOf(req)]).toEqual(['stored_device_id_0001', undefined]);
    expect(dl.deviceId()).toBe('stored_device_id_0001');
    expect(fake.fingerprint.loads).toEqual([]);
  });
});

describe('reset and forget', () => {
  test('reset sends waiting page views with the old id, clears the cookie, and mints an id that names the old one and is never fingerprinted', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    const dl = load({ batch: { size: 100, delayMs: 60_000 } });
    dl.pageview('/before-logout');
    await expect(dl.reset()).resolves.toEqual({ ok: true });
    const [events, clear] = collector.received;
    expect([events!.path, idOf(events)]).toEqual(['/v1/events', 'stored_device_id_0001']);
    expect([clear!.method, clear!.path]).toEqual(['DELETE', '/v1/device/cookie']);
    // The cookie it clears travelled with it (credentials included).
    expect(cookieOf(clear!)).toBe('stored_device_id_0001');
    const next = dl.deviceId();
    expect(isValidDeviceId(next)).toBe(true);
    expect(next).not.toBe('stored_device_id_0001');
    expect(localStorage.getItem(STORAGE_KEY)).toBe(next);
    // The next request: the new id, not fresh (it never yields), naming the id it replaces.
    dl.pageview('/after-logout');
    await dl.flush();
    const req = requests('/v1/events').at(-1);
    expect([idOf(req), freshOf(req), replacesOf(req), cookieOf(req!)]).toEqual([
      next,
      undefined,
      'stored_device_id_0001',
      null,
    ]);
    expect(dl.deviceId()).toBe(next);
    // Answered 2xx: the marker has done its work.
    dl.pageview('/later');
    await dl.flush();
    const later = requests('/v1/events').at(-1);
    expect([idOf(later), replacesOf(later)]).toEqual([next, undefined]);
    expect(localStorage.getItem(PENDING)).toBeNull();
    await dl.flush();
    expect(fake.fingerprint.loads).toEqual([]);
  });

  test('while the cookie is being cleared app requests carry no id; afterwards the new one', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    let release = () => {};
    collector.answer = (req) => {
      if (req.path === '/v1/device/cookie') release();
      return { status: 204, cookie: null };
    };
    const dl = load();
    expect(dl.headersFor('/api')).toEqual({ 'X-Device-Fingerprint': 'stored_device_id_0001' });
    const cleared = new Promise<void>((r) => (release = r));
    const done = dl.reset();
    await cleared;
    expect(dl.headersFor('/api')).toEqual({});
    expect(dl.deviceId()).toBeNull();
    await done;
    const next = dl.deviceId();
    expect(dl.headersFor('/api')).toEqual({
      'X-Device-Fingerprint': next,
      'X-Device-Replaces': 'stored_device_id_0001',
    });
  });

  test('forget erases the device by its id and cookie, drops waiting page views, then resets', async () => {
    const dl = load({ batch: { size: 100, delayMs: 60_000 } });
    dl.pageview('/seen');
    await dl.flush();
    const old = idOf(requests('/v1/events')[0]);
    dl.pageview('/waiting');
    collector.received.length = 0;
    await expect(dl.forget()).resolves.toEqual({ ok: true });
    const [erase, clear] = collector.received;
    expect([erase!.method, erase!.path, idOf(erase), cookieOf(erase!)]).toEqual([
      'DELETE',
      '/v1/device',
      old,
      old,
    ]);
    expect([clear!.method, clear!.path]).toEqual(['DELETE', '/v1/device/cookie']);
    expect(requests('/v1/events')).toEqual([]);
    expect(dl.deviceId()).not.toBe(old);
    expect(localStorage.getItem(PENDING)).toBeNull();
  });

  test('a failed erase is answered as an { error } value and the old id is still replaced', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    collector.answer = () => ({ status: 503 });
    const dl = load();
    const result = await dl.forget();
    expect('error' in result && result.error.status).toBe(503);
    expect(dl.deviceId()).not.toBe('stored_device_id_0001');
  });
});

describe('onError', () => {
  test('a batch the collector refuses is handed over as PageviewsDroppedError', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    collector.answer = () => ({ status: 400 });
    const dl = load();
    dl.pageview('/refused');
    await eventually(() => expect(errors).toHaveLength(2));
    // The failed request, then the batch given up for it.
    expect([errors[0]!.name, errors[0]!.message]).toEqual(['CollectorError', 'POST /v1/events: HTTP 400']);
    const [, error] = errors as [unknown, DeviceLinkError & { count: number; cause: { status: number } }];
    expect(error.name).toBe('PageviewsDroppedError');
    expect(isDeviceLinkError(error)).toBe(true);
    expect(error.count).toBe(1);
    expect(error.cause.status).toBe(400);
  });

  test('a failing fingerprint is handed over as FingerprintError and not retried on later loads', async () => {
    await viewed(load(), '/first');
    await eventually(() => expect(fake.fingerprint.loads).toHaveLength(1));
    fake.fingerprint.visitorId.reject(new Error('canvas blocked'));
    await eventually(() => expect(errors.map((e) => e.name)).toEqual(['FingerprintError']));
    expect(localStorage.getItem(PENDING)).toBeNull();
    expect(requests('/v1/device/fingerprint')).toEqual([]);
  });

  test('a failed evidence send is handed over as CollectorError and stays pending for a later load', async () => {
    collector.answer = (req) =>
      req.path === '/v1/device/fingerprint' ? { status: 503 } : collectorAnswer(req);
    const dl = load();
    const id = idOf(await viewed(dl, '/first'));
    fake.fingerprint.visitorId.resolve(VISITOR);
    await eventually(() => expect(errors.map((e) => e.name)).toEqual(['CollectorError']));
    expect(localStorage.getItem(PENDING)).toBe(id);
  });

  test('evidence the collector refuses for good (a 4xx) is not kept for a later load', async () => {
    collector.answer = (req) =>
      req.path === '/v1/device/fingerprint' ? { status: 400 } : collectorAnswer(req);
    await viewed(load(), '/first');
    fake.fingerprint.visitorId.resolve(VISITOR);
    await eventually(() => expect(errors.map((e) => e.name)).toEqual(['CollectorError']));
    expect(localStorage.getItem(PENDING)).toBeNull();
  });

  test('an onError that throws breaks nothing', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    collector.answer = (req) => ({ status: req.body.includes('/bad') ? 400 : 202 });
    const dl = load({
      onError: () => {
        throw new Error('app bug');
      },
    });
    dl.pageview('/bad');
    await dl.flush();
    await viewed(dl, '/good');
  });
});

describe('URL hygiene', () => {
  test('the fragment and query parameters outside the allowlist never leave the browser', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    const dl = load({ batch: { size: 2 } });
    dl.pageview('https://app.example.com/a?utm_source=news&token=secret#access_token=x');
    dl.pageview('https://app.example.com/b?ref=1&utm_medium=mail');
    await eventually(() => expect(requests('/v1/events')).toHaveLength(1));
    const body = requests('/v1/events')[0]!.body;
    expect(JSON.parse(body).events.map((e: { url: string }) => e.url)).toEqual([
      'https://app.example.com/a?utm_source=news',
      'https://app.example.com/b?utm_medium=mail',
    ]);
    expect(body).not.toContain('secret');
    expect(body).not.toContain('access_token');
  });

  test('queryAllowlist replaces the default list', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    const dl = load({ queryAllowlist: ['page'] });
    const req = await viewed(dl, '/list?page=2&utm_source=x');
    expect(JSON.parse(req.body).events[0].url).toBe('/list?page=2');
  });
});
