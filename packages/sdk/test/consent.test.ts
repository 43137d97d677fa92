// @vitest-environment happy-dom
/**
 * Consent: `pending` and `denied` load no fingerprint code and write no storage; `pending` keeps page
 * views and sends them on grant; `denied` drops them. Each test imports the SDK into a fresh module
 * registry, so "no fingerprint code loaded" means the module was never imported at all.
 */
import { STORAGE_KEY } from '@devicelink/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import type { DeviceLink, DeviceLinkOptions } from '../src/index.js';
import { eventually } from './eventually.js';
import type { fingerprint as Fingerprint } from './fake-fingerprint.js';
import { collectorAnswer, startServer, type TestServer } from './test-server.js';

const FP = '0123456789abcdef0123456789abcdef';
let collector: TestServer;
const running: DeviceLink[] = [];
let writes: string[] = [];
let restoreStorage = () => {};
// The fake of this test's fresh module registry (the one the SDK under test would import).
let fingerprint: typeof Fingerprint;

beforeAll(async () => {
  collector = await startServer();
});
afterAll(() => collector.close());
beforeEach(async () => {
  localStorage.clear();
  collector.answer = collectorAnswer;
  // No cookie from an earlier test: the collector clears it.
  await fetch(`${collector.origin}/v1/device/cookie`, { method: 'DELETE', credentials: 'include' });
  collector.received.length = 0;
  vi.resetModules();
  // A fresh fake per test, registered after the reset so its import is counted from zero.
  const fake = await import('./fake-fingerprint.js');
  fingerprint = fake.fingerprint;
  vi.doMock('@fingerprintjs/fingerprintjs', () => fake.install());
  // Records every storage write (a spy on the browser's Storage, restored after each test).
  writes = [];
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (this: Storage, key: string, value: string) {
    writes.push(key);
    setItem.call(this, key, value);
  };
  restoreStorage = () => {
    Storage.prototype.setItem = setItem;
  };
});
afterEach(() => {
  for (const dl of running.splice(0)) dl.stop();
  restoreStorage();
  vi.doUnmock('@fingerprintjs/fingerprintjs');
});

async function start(options: Partial<DeviceLinkOptions>): Promise<DeviceLink> {
  const { createDeviceLink } = await import('../src/index.js');
  const dl = createDeviceLink({ collector: collector.origin, batch: { size: 1 }, ...options });
  running.push(dl);
  return dl;
}

const sentUrls = () =>
  collector.received
    .filter((r) => r.path === '/v1/events')
    .flatMap((r) => JSON.parse(r.body).events.map((e: { url: string }) => e.url));

describe('consent', () => {
  test('the fake fingerprint module is counted when granted consent loads it', async () => {
    await start({ consent: 'granted' });
    await eventually(() => expect(fingerprint.imports).toBe(1));
    expect(fingerprint.loads).toEqual([{ monitoring: false }]);
  });

  test('pending keeps page views in memory, loads no fingerprint code, stores nothing, and sends on grant', async () => {
    const dl = await start({ consent: 'pending' });
    dl.pageview('/second');
    await dl.flush();
    expect(collector.received).toHaveLength(0);
    expect(dl.deviceId()).toBeNull();
    expect(fingerprint.imports).toBe(0);
    expect(writes).toEqual([]);
    expect(localStorage.length).toBe(0);

    dl.setConsent('granted');
    await eventually(() => expect(sentUrls()).toEqual([location.href, '/second']));
    const minted = dl.deviceId();
    expect(collector.received[0]!.headers['x-device-fingerprint']).toBe(minted);
    expect(collector.received[0]!.headers['x-device-consent']).toBeUndefined();
    expect(localStorage.getItem(STORAGE_KEY)).toBe(minted);
    // Granted: the id was minted, so its evidence is computed.
    await eventually(() => expect(fingerprint.imports).toBe(1));
  });

  test('denied drops page views, loads no fingerprint code and stores nothing, even after a later grant', async () => {
    const dl = await start({ consent: 'denied' });
    dl.pageview('/dropped');
    await dl.flush();
    expect(fingerprint.imports).toBe(0);
    expect(writes).toEqual([]);
    fingerprint.visitorId.resolve(FP);
    dl.setConsent('granted');
    dl.pageview('/after-grant');
    await eventually(() => expect(sentUrls()).toEqual(['/after-grant']));
    // Granted, the minted id's evidence goes once; awaited here so it cannot land in the next test.
    await eventually(() =>
      expect(collector.received.filter((r) => r.path === '/v1/device/fingerprint')).toHaveLength(1),
    );
  });

  test('withdrawing consent drops waiting page views, removes the stored id, and sends one last DELETE /v1/device/recovery with it', async () => {
    localStorage.setItem(STORAGE_KEY, 'stored_device_id_0001');
    const dl = await start({
      consent: 'granted',
      autoPageviews: false,
      batch: { size: 100, delayMs: 60_000 },
    });
    dl.pageview('/waiting');
    expect(dl.deviceId()).toBe('stored_device_id_0001');
    dl.setConsent('denied');
    expect(localStorage.getItem(STORAGE_KEY)).toBeNull();
    expect(dl.deviceId()).toBeNull();
    await dl.flush();
    window.dispatchEvent(new Event('pagehide'));
    await eventually(() => expect(collector.received).toHaveLength(1));
    const [recovery] = collector.received;
    expect([recovery!.method, recovery!.path]).toEqual(['DELETE', '/v1/device/recovery']);
    expect(recovery!.headers['x-device-fingerprint']).toBe('stored_device_id_0001');
    expect(recovery!.headers['x-device-consent']).toBeUndefined();
    // Nothing is stored afterwards, and no other request follows.
    expect(localStorage.length).toBe(0);
    await dl.flush();
    expect(collector.received).toHaveLength(1);
  });

  test('identify under denied consent carries X-Device-Consent: denied and no device header', async () => {
    const dl = await start({ consent: 'denied', autoPageviews: false });
    await dl.identify('user.jwt.token');
    const identify = collector.received.find((r) => r.path === '/v1/identify');
    expect(identify!.headers.authorization).toBe('Bearer user.jwt.token');
    expect(identify!.headers['x-device-consent']).toBe('denied');
    expect(identify!.headers['x-device-fingerprint']).toBeUndefined();
    expect(fingerprint.imports).toBe(0);
  });
});
