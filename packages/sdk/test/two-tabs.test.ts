// @vitest-environment happy-dom
/**
 * One browser, one id, with two tabs opened at once (docs/protocol.md, SDK): two DeviceLinks over one
 * localStorage and one cookie jar stand for two tabs. The first id stored wins in both (a Web Lock makes
 * "store only if absent" atomic where the browser has `navigator.locks`; elsewhere a fresh id re-reads
 * storage on every use), the SDK's own sends go with the winner, and app requests never wait for it.
 */
import { STORAGE_KEY } from '@devicelink/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { createDeviceLink, type DeviceLink } from '../src/index.js';
import { eventually } from './eventually.js';
import { collectorAnswer, startServer, type TestServer } from './test-server.js';

const fake = await vi.hoisted(() => import('./fake-fingerprint.js'));
vi.mock('@fingerprintjs/fingerprintjs', () => fake.install());

let collector: TestServer;
const running: DeviceLink[] = [];

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
});
afterEach(() => {
  for (const dl of running.splice(0)) dl.stop();
});

function tab(): DeviceLink {
  const dl = createDeviceLink({ collector: collector.origin, autoPageviews: false, batch: { size: 1 } });
  running.push(dl);
  return dl;
}

const sentIds = () =>
  collector.received.filter((r) => r.path === '/v1/events').map((r) => r.headers['x-device-fingerprint']);

/**
 * A `navigator.locks` whose locks are granted one after another, each a task later (as a browser
 * grants them across tabs); restored after `work`.
 */
async function withLocks(work: () => Promise<void>): Promise<void> {
  let chain = Promise.resolve();
  const locks = {
    request(_name: string, callback: () => unknown) {
      const run = chain.then(() => new Promise((resolve) => setTimeout(resolve, 0))).then(callback);
      chain = run.then(() => undefined);
      return run;
    },
  };
  const own = Object.getOwnPropertyDescriptor(navigator, 'locks');
  Object.defineProperty(navigator, 'locks', { configurable: true, value: locks });
  try {
    await work();
  } finally {
    if (own) Object.defineProperty(navigator, 'locks', own);
    else delete (navigator as { locks?: unknown }).locks;
  }
}

describe('two tabs opened at once', () => {
  test('with Web Locks both send the id stored first, and app requests never waited for it', async () => {
    await withLocks(async () => {
      const [a, b] = [tab(), tab()];
      // Both tabs minted before either could store: app requests go at once, each with its own id.
      const first = a.headersFor('/api')['X-Device-Fingerprint'];
      const second = b.headersFor('/api')['X-Device-Fingerprint'];
      expect([first, second].every(Boolean) && first !== second).toBe(true);
      expect(localStorage.getItem(STORAGE_KEY)).toBeNull();
      a.pageview('/a');
      b.pageview('/b');
      await eventually(() => expect(sentIds()).toHaveLength(2));
      expect(sentIds()).toEqual([first, first]);
      expect([a.deviceId(), b.deviceId(), localStorage.getItem(STORAGE_KEY)]).toEqual([first, first, first]);
      expect(b.headersFor('/api')['X-Device-Fingerprint']).toBe(first);
      // One evidence, for the one id.
      await eventually(() => expect(fake.fingerprint.loads.length).toBeGreaterThan(0));
    });
  });

  test('without Web Locks a fresh id takes the id another tab stored later, before its next send', async () => {
    const a = tab();
    const mine = a.deviceId();
    expect(localStorage.getItem(STORAGE_KEY)).toBe(mine);
    // The other tab read storage before this one wrote, and wrote after it.
    const theirs = 'other_tab_device_id_01';
    localStorage.setItem(STORAGE_KEY, theirs);
    localStorage.setItem('devicelink:device-fresh', theirs);
    a.pageview('/a');
    await eventually(() => expect(sentIds()).toEqual([theirs]));
    expect(collector.received[0]!.headers['x-device-fresh']).toBe('1');
    expect(a.deviceId()).toBe(theirs);
    expect(a.deviceIdSource()).toBe('stored');
  });

  test('a logout in one tab is followed by the other at its next use: the new id and its marker', async () => {
    const [a, b] = [tab(), tab()];
    a.pageview('/a');
    // Answered: no longer fresh; the other tab shares it.
    await eventually(() => expect(a.headersFor('/api')['X-Device-Fresh']).toBeUndefined());
    const old = a.deviceId();
    expect(b.deviceId()).toBe(old);
    await a.reset();
    const next = a.deviceId();
    expect(next).not.toBe(old);
    expect(b.headersFor('/api')).toEqual({ 'X-Device-Fingerprint': next, 'X-Device-Replaces': old });
    expect(b.deviceIdSource()).toBe('stored');
  });
});
