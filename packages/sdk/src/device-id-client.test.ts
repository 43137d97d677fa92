import { isValidDeviceId } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import { deferred } from '../test/fake-fingerprint.js';
import type { Consent } from './consent.js';
import { createDeviceIdClient } from './device-id-client.js';
import { FingerprintError } from './errors.js';
import type { FingerprintResult } from './fingerprint.js';
import type { IdStorage } from './id-storage.js';

const STORED = 'stored_device_id_0001';
const ECHO = 'echoed_device_id_0002';
const OTHER = 'another_device_id_003';
const FP = '0123456789abcdef0123456789abcdef';

/** An in-memory IdStorage that records every write. */
function memoryStorage(initial: string | null = null) {
  let value = initial;
  const writes: (string | null)[] = [];
  const storage: IdStorage = {
    read: () => value,
    write: (id) => {
      writes.push(id);
      value = id;
    },
    clear: () => {
      writes.push(null);
      value = null;
    },
  };
  return { storage, writes, value: () => value };
}

function setup(opts: { stored?: string | null; consent?: Consent } = {}) {
  const mem = memoryStorage(opts.stored ?? null);
  const fp = deferred<FingerprintResult>();
  const fingerprint = vi.fn(() => fp.promise);
  const client = createDeviceIdClient(opts.consent ?? 'granted', mem.storage, fingerprint);
  return { client, mem, fp, fingerprint };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('device id client', () => {
  test('does nothing until first used', () => {
    const { fingerprint, mem } = setup({ stored: STORED });
    expect(fingerprint).not.toHaveBeenCalled();
    expect(mem.writes).toEqual([]);
  });

  test('the stored id wins and no fingerprint is computed', () => {
    const { client, fingerprint } = setup({ stored: STORED });
    expect(client.current()).toBe(STORED);
    expect(fingerprint).not.toHaveBeenCalled();
  });

  test('with nothing stored, an echo is adopted at once as a provisional id and not stored', () => {
    const { client, mem } = setup();
    expect(client.current()).toBeNull();
    client.adopt(ECHO, null);
    expect(client.current()).toBe(ECHO);
    expect(mem.writes).toEqual([]);
  });

  test('a provisional id is replaced by the fingerprint when it finishes, and the fingerprint is stored', async () => {
    const { client, mem, fp } = setup();
    client.adopt(ECHO, null);
    fp.resolve({ id: FP });
    await settle();
    expect(client.current()).toBe(FP);
    expect(mem.value()).toBe(FP);
  });

  test('once the fingerprint is stored, an echo for a request without the stored id is ignored', async () => {
    const { client, fp } = setup();
    fp.resolve({ id: FP });
    await client.ready(200);
    client.adopt(ECHO, null);
    expect(client.current()).toBe(FP);
  });

  test('an echo for a request made with an expired token (no header sent) does not replace the stored id', () => {
    const { client, mem } = setup({ stored: STORED });
    client.adopt(ECHO, undefined);
    client.adopt(ECHO, OTHER);
    expect(client.current()).toBe(STORED);
    expect(mem.writes).toEqual([]);
  });

  test('an echo for a request that carried the stored id is adopted and stored', () => {
    const { client, mem } = setup({ stored: STORED });
    client.adopt(ECHO, STORED);
    expect(client.current()).toBe(ECHO);
    expect(mem.value()).toBe(ECHO);
  });

  test('when the fingerprint fails the provisional echo is kept and stored, and nothing is thrown', async () => {
    const { client, mem, fp } = setup();
    client.adopt(ECHO, null);
    fp.resolve({ error: new FingerprintError('blocked') });
    await expect(client.ready(200)).resolves.toBe(ECHO);
    expect(mem.value()).toBe(ECHO);
  });

  test('an invalid fingerprint visitorId is never used as an id', async () => {
    const { client, fp, mem } = setup();
    fp.resolve({ id: 'undefined' });
    await expect(client.ready(200)).resolves.toBeNull();
    expect(mem.writes).toEqual([]);
  });

  test('junk ids from a server are never adopted (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom(
            'null',
            'undefined',
            'anonymous',
            'GUEST',
            '[object Object]',
            'NaN',
            '0'.repeat(16),
          ),
          fc.anything(),
        ),
        (junk) => {
          fc.pre(!isValidDeviceId(junk));
          const { client } = setup();
          client.adopt(junk, null);
          expect(client.current()).toBeNull();
          const withStored = setup({ stored: STORED });
          withStored.client.adopt(junk, STORED);
          expect(withStored.client.current()).toBe(STORED);
        },
      ),
    );
  });

  test.each(['pending', 'denied'] as const)(
    'under %s consent nothing is read, fingerprinted, stored or adopted',
    (consent) => {
      const { client, fingerprint, mem } = setup({ stored: STORED, consent });
      expect(client.current()).toBeNull();
      client.adopt(ECHO, null);
      expect(client.current()).toBeNull();
      expect(fingerprint).not.toHaveBeenCalled();
      expect(mem.writes).toEqual([]);
    },
  );

  test('withdrawing consent forgets and unstores the id; granting again starts over', async () => {
    const { client, mem, fp } = setup({ stored: STORED });
    expect(client.current()).toBe(STORED);
    client.setConsent('denied');
    expect(client.current()).toBeNull();
    expect(mem.value()).toBeNull();
    client.setConsent('granted');
    fp.resolve({ id: FP });
    await expect(client.ready(200)).resolves.toBe(FP);
  });

  test('ready waits for the first fingerprint at most waitMs, a budget shared by all calls', async () => {
    vi.useFakeTimers();
    try {
      const { client } = setup();
      let first: string | null | undefined;
      void client.ready(200).then((id) => {
        first = id;
      });
      await vi.advanceTimersByTimeAsync(199);
      expect(first).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(first).toBeNull();
      // The budget is spent: later calls answer at once.
      let second: string | null | undefined;
      void client.ready(200).then((id) => {
        second = id;
      });
      await vi.advanceTimersByTimeAsync(0);
      expect(second).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
