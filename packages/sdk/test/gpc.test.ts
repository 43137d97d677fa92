// @vitest-environment happy-dom
/**
 * Global Privacy Control (`navigator.globalPrivacyControl`): honoured by default like denied consent (no
 * id, no storage, no FingerprintJS, no device header); an explicit `setConsent('granted')` overrides it
 * and says so with `X-Device-Consent: granted` on every request, which the collector and the plugin
 * accept as overriding `Sec-GPC: 1` (the plugin's side: packages/fastify/src/plugin/request-signals.test.ts,
 * `headersDenyConsent` on these same headers).
 */
import { CONSENT_GRANTED, STORAGE_KEY } from '@devicelink/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { createDeviceLink, type DeviceLink } from '../src/index.js';
import { eventually } from './eventually.js';
import { collectorAnswer, startServer, type TestServer } from './test-server.js';

const fake = await vi.hoisted(() => import('./fake-fingerprint.js'));
vi.mock('@fingerprintjs/fingerprintjs', () => fake.install());

let collector: TestServer;
const running: DeviceLink[] = [];
let restore = () => {};

beforeAll(async () => {
  collector = await startServer();
});
afterAll(() => collector.close());
beforeEach(async () => {
  localStorage.clear();
  fake.fingerprint.reset();
  collector.answer = collectorAnswer;
  await fetch(`${collector.origin}/v1/device/cookie`, { method: 'DELETE', credentials: 'include' });
  collector.received.length = 0;
  // The browser global GPC sets, restored after each test.
  const own = Object.getOwnPropertyDescriptor(navigator, 'globalPrivacyControl');
  Object.defineProperty(navigator, 'globalPrivacyControl', { configurable: true, value: true });
  restore = () => {
    if (own) Object.defineProperty(navigator, 'globalPrivacyControl', own);
    else delete (navigator as { globalPrivacyControl?: unknown }).globalPrivacyControl;
  };
});
afterEach(() => {
  try {
    for (const dl of running.splice(0)) dl.stop();
  } finally {
    restore();
  }
});

function load(): DeviceLink {
  const dl = createDeviceLink({ collector: collector.origin, batch: { size: 1 } });
  running.push(dl);
  return dl;
}

describe('Global Privacy Control', () => {
  test('is honoured by default: no id, nothing stored, no FingerprintJS, no device header, page views dropped', async () => {
    const dl = load();
    expect(dl.consent()).toBe('denied');
    expect(dl.deviceId()).toBeNull();
    expect(dl.headersFor('/api/me')).toEqual({ 'X-Device-Consent': 'denied' });
    dl.pageview('/dropped');
    await dl.flush();
    expect(collector.received).toEqual([]);
    const identify = await dl.identify('user.jwt.token');
    expect('error' in identify).toBe(false);
    const [req] = collector.received;
    expect(req!.headers['x-device-consent']).toBe('denied');
    expect(req!.headers['x-device-fingerprint']).toBeUndefined();
    expect(localStorage.length).toBe(0);
    expect(fake.fingerprint.loads).toEqual([]);
  });

  test("an explicit setConsent('granted') overrides it: the id, page views and evidence, each request saying granted", async () => {
    const dl = load();
    dl.setConsent('granted');
    expect(dl.consent()).toBe('granted');
    const id = dl.deviceId();
    expect(localStorage.getItem(STORAGE_KEY)).toBe(id);
    expect(dl.headersFor('/api/me')).toEqual({
      'X-Device-Consent': CONSENT_GRANTED,
      'X-Device-Fingerprint': id,
      'X-Device-Fresh': '1',
    });
    dl.pageview('/granted');
    await eventually(() => expect(collector.received.some((r) => r.path === '/v1/events')).toBe(true));
    const events = collector.received.find((r) => r.path === '/v1/events')!;
    expect(events.headers['x-device-consent']).toBe(CONSENT_GRANTED);
    expect(events.headers['x-device-fingerprint']).toBe(id);
    // The id stood: its evidence is computed, and goes with the grant too.
    await eventually(() => expect(fake.fingerprint.loads).toHaveLength(1));
    fake.fingerprint.visitorId.resolve('0123456789abcdef0123456789abcdef');
    await eventually(() =>
      expect(
        collector.received.find((r) => r.path === '/v1/device/fingerprint')?.headers['x-device-consent'],
      ).toBe(CONSENT_GRANTED),
    );
  });

  test('after an explicit grant the page leaving sends by fetch, not by a beacon that cannot say granted', async () => {
    const beacons: string[] = [];
    const own = Object.getOwnPropertyDescriptor(navigator, 'sendBeacon');
    Object.defineProperty(navigator, 'sendBeacon', {
      configurable: true,
      value: (_url: string, body: string) => beacons.push(body) > 0,
    });
    try {
      const dl = createDeviceLink({
        collector: collector.origin,
        autoPageviews: false,
        batch: { size: 100 },
      });
      running.push(dl);
      dl.setConsent('granted');
      dl.pageview('/leaving');
      window.dispatchEvent(new Event('pagehide'));
      await eventually(() => expect(collector.received.some((r) => r.path === '/v1/events')).toBe(true));
      expect(beacons).toEqual([]);
      expect(collector.received.find((r) => r.path === '/v1/events')!.headers['x-device-consent']).toBe(
        CONSENT_GRANTED,
      );
    } finally {
      if (own) Object.defineProperty(navigator, 'sendBeacon', own);
      else delete (navigator as { sendBeacon?: unknown }).sendBeacon;
    }
  });
});
