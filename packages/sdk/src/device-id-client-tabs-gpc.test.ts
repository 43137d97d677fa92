// @vitest-environment happy-dom
/**
 * The device id client with two tabs over one storage, and under Global Privacy Control. Browser
 * globals (`navigator.locks`, `navigator.globalPrivacyControl`) are replaced per test and restored.
 */
import { describe, expect, test, vi } from 'vitest';
import { isFresh, memoryStorage, setup } from '../test/device-id-fixtures.js';
import { createDeviceIdClient } from './device-id-client.js';
import { FRESH_KEY, ID_KEY } from './id-storage.js';

const STORED = 'stored_device_id_0001';
const OTHER = 'another_device_id_003';

describe('two tabs', () => {
  test('an id another tab stored is taken on the next use, fresh or not', () => {
    const { client, mem } = setup();
    const mine = client.current_()!;
    mem.storage.set(ID_KEY, OTHER);
    mem.storage.set(FRESH_KEY, OTHER);
    expect(client.current_()).toBe(OTHER);
    expect(client.source_()).toBe('stored');
    expect(isFresh(client, OTHER)).toBe(true);
    expect(client.requestHeaders_(mine)).toEqual({ 'X-Device-Fingerprint': mine });
    // Answered, it stands; a later write by another tab (a reset there) is followed all the same.
    client.adopt_(OTHER, OTHER, true);
    expect(isFresh(client, OTHER)).toBe(false);
    mem.storage.set(ID_KEY, STORED);
    expect(client.current_()).toBe(STORED);
  });

  test('an echo for the id given up to another tab is not adopted', () => {
    const { client, mem, evidence } = setup();
    const mine = client.current_()!;
    mem.storage.set(ID_KEY, OTHER);
    client.adopt_(mine, mine, true);
    expect(client.current_()).toBe(OTHER);
    expect(evidence).not.toHaveBeenCalled();
  });

  test('with Web Locks the first tab to take the lock stores its id and the other takes it', async () => {
    const mem = memoryStorage();
    let chain = Promise.resolve();
    const requests: string[] = [];
    const locks = {
      request: (name: string, work: () => unknown) => {
        requests.push(name);
        const run = chain.then(work);
        chain = run.then(() => undefined);
        return run;
      },
    };
    const own = Object.getOwnPropertyDescriptor(navigator, 'locks');
    Object.defineProperty(navigator, 'locks', { configurable: true, value: locks });
    try {
      const a = createDeviceIdClient('granted', mem.storage, vi.fn());
      const b = createDeviceIdClient('granted', mem.storage, vi.fn());
      const first = a.current_();
      const second = b.current_();
      expect(first).not.toBe(second);
      // Nothing is written before the lock is held; app requests meanwhile carry each tab's own id.
      expect(mem.get(ID_KEY)).toBeNull();
      await a.ready_();
      expect(mem.get(ID_KEY)).toBe(first);
      // The lock is held until the collector answers the stored id; then the other tab takes it.
      a.adopt_(first, first, true);
      await b.ready_();
      expect(requests).toEqual(['devicelink:device-id', 'devicelink:device-id']);
      expect([a.current_(), b.current_()]).toEqual([first, first]);
      expect(isFresh(b, first)).toBe(false);
    } finally {
      if (own) Object.defineProperty(navigator, 'locks', own);
      else delete (navigator as { locks?: unknown }).locks;
    }
  });

  test('ready() before any use of the id waits for the Web Lock: the first send goes with the id stored first', async () => {
    // The page-view queue awaits ready() and only then reads the id. A first visit's first page view
    // went with the tab's own unclaimed id when nothing had used the id before (seen in Chromium by
    // the identity bench: that page view then sat under an id no edge tied to the browser).
    const mem = memoryStorage();
    let chain = Promise.resolve();
    const locks = {
      request: (_name: string, work: () => unknown) => {
        const run = chain.then(() => new Promise((resolve) => setTimeout(resolve, 0))).then(work);
        chain = run.then(() => undefined);
        return run;
      },
    };
    const own = Object.getOwnPropertyDescriptor(navigator, 'locks');
    Object.defineProperty(navigator, 'locks', { configurable: true, value: locks });
    try {
      const a = createDeviceIdClient('granted', mem.storage, vi.fn());
      const b = createDeviceIdClient('granted', mem.storage, vi.fn());
      const both = Promise.all([a.ready_(), b.ready_()]);
      await a.ready_();
      const first = mem.get(ID_KEY);
      expect(first).not.toBeNull();
      expect(a.current_()).toBe(first);
      a.adopt_(first, first, true);
      await both;
      expect([a.current_(), b.current_()]).toEqual([first, first]);
    } finally {
      if (own) Object.defineProperty(navigator, 'locks', own);
      else delete (navigator as { locks?: unknown }).locks;
    }
  });

  test('a tab that stored its id holds the Web Lock until the collector answered that id (its cookie is set)', async () => {
    // Chromium may grant the lock to the next tab before this tab's write reaches that tab's
    // localStorage (seen by the identity bench under load): that tab then stored an id of its own and
    // both tabs' first page views went out with no cookie, one of them under an id nothing tied to the
    // browser. Held until the answer, the next tab's first request carries the cookie.
    const mem = memoryStorage();
    let chain = Promise.resolve();
    const locks = {
      request: (_name: string, work: () => unknown) => {
        const run = chain.then(() => new Promise((resolve) => setTimeout(resolve, 0))).then(work);
        chain = run.then(() => undefined);
        return run;
      },
    };
    const own = Object.getOwnPropertyDescriptor(navigator, 'locks');
    Object.defineProperty(navigator, 'locks', { configurable: true, value: locks });
    try {
      const a = createDeviceIdClient('granted', mem.storage, vi.fn());
      const b = createDeviceIdClient('granted', mem.storage, vi.fn());
      // Both tabs read empty storage and minted; the lock goes to a first, then to b.
      const first = a.current_()!;
      expect(b.current_()).not.toBe(first);
      await a.ready_();
      expect(mem.get(ID_KEY)).toBe(first);
      let granted = false;
      const next = b.ready_().then(() => {
        granted = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(granted).toBe(false);
      a.adopt_(first, first, true);
      await next;
      expect(b.current_()).toBe(first);
    } finally {
      if (own) Object.defineProperty(navigator, 'locks', own);
      else delete (navigator as { locks?: unknown }).locks;
    }
  });

  test('an id answered (and standing) before its Web Lock was granted still sends its evidence, once', async () => {
    // The app's own request needs no written id: its answer may come before the lock lets the write
    // happen (seen in Chromium under load: the evidence was then never sent).
    const mem = memoryStorage();
    let grant: () => void = () => {};
    const locks = {
      request: (_name: string, work: () => unknown) =>
        new Promise((resolve) => {
          grant = () => resolve(work());
        }),
    };
    const own = Object.getOwnPropertyDescriptor(navigator, 'locks');
    Object.defineProperty(navigator, 'locks', { configurable: true, value: locks });
    try {
      const evidence = vi.fn<(id: string) => void>();
      const client = createDeviceIdClient('granted', mem.storage, evidence);
      const id = client.current_()!;
      client.adopt_(id, id, true);
      expect(evidence).not.toHaveBeenCalled();
      grant();
      await client.ready_();
      expect(mem.get(ID_KEY)).toBe(id);
      expect(evidence.mock.calls).toEqual([[id]]);
    } finally {
      if (own) Object.defineProperty(navigator, 'locks', own);
      else delete (navigator as { locks?: unknown }).locks;
    }
  });

  test('a Web Lock the browser refuses (an opaque origin) still stores the id', async () => {
    const mem = memoryStorage();
    const own = Object.getOwnPropertyDescriptor(navigator, 'locks');
    Object.defineProperty(navigator, 'locks', {
      configurable: true,
      value: { request: () => Promise.reject(new DOMException('opaque origin', 'SecurityError')) },
    });
    try {
      const a = createDeviceIdClient('granted', mem.storage, vi.fn());
      const id = a.current_();
      await a.ready_();
      expect(mem.get(ID_KEY)).toBe(id);
    } finally {
      if (own) Object.defineProperty(navigator, 'locks', own);
      else delete (navigator as { locks?: unknown }).locks;
    }
  });
});

describe('Global Privacy Control', () => {
  function withGpc<T>(work: () => T): T {
    const own = Object.getOwnPropertyDescriptor(navigator, 'globalPrivacyControl');
    Object.defineProperty(navigator, 'globalPrivacyControl', { configurable: true, value: true });
    try {
      return work();
    } finally {
      if (own) Object.defineProperty(navigator, 'globalPrivacyControl', own);
      else delete (navigator as { globalPrivacyControl?: unknown }).globalPrivacyControl;
    }
  }

  test('is honoured by default: denied, nothing read, minted or stored, the denial header', () => {
    withGpc(() => {
      const { client, mem, evidence } = setup({ stored: { [ID_KEY]: STORED } });
      expect(client.consent()).toBe('denied');
      expect(client.current_()).toBeNull();
      expect(client.requestHeaders_(client.current_())).toEqual({ 'X-Device-Consent': 'denied' });
      expect(mem.writes).toEqual([]);
      expect(evidence).not.toHaveBeenCalled();
    });
  });

  test("an explicit setConsent('granted') overrides it, and says so on every request", () => {
    withGpc(() => {
      const { client } = setup({ stored: { [ID_KEY]: STORED } });
      expect(client.setConsent('granted')).toBeNull();
      expect(client.consent()).toBe('granted');
      expect(client.current_()).toBe(STORED);
      expect(client.requestHeaders_(STORED)).toEqual({
        'X-Device-Consent': 'granted',
        'X-Device-Fingerprint': STORED,
      });
      // Withdrawn again: the override ends with it.
      expect(client.setConsent('denied')).toBe(STORED);
      expect(client.current_()).toBeNull();
    });
  });

  test('without GPC a grant sends no consent header', () => {
    const { client } = setup({ stored: { [ID_KEY]: STORED } });
    client.setConsent('granted');
    expect(client.requestHeaders_(STORED)).toEqual({ 'X-Device-Fingerprint': STORED });
  });
});
