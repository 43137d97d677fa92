// @vitest-environment happy-dom
import { isValidDeviceId } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import { isFresh, setup } from '../test/device-id-fixtures.js';
import { createDeviceIdClient } from './device-id-client.js';
import { FRESH_KEY, ID_KEY, PENDING_KEY, REPLACES_KEY } from './id-storage.js';

const STORED = 'stored_device_id_0001';
const COOKIE = 'cookie_device_id_0002';
const OTHER = 'another_device_id_003';

describe('device id client', () => {
  test('does nothing until first used', () => {
    const { mem, evidence } = setup();
    expect(mem.writes).toEqual([]);
    expect(evidence).not.toHaveBeenCalled();
  });

  test('with nothing stored, an id is minted at once, stored and fresh; its evidence waits for the answer', () => {
    const { client, mem, evidence } = setup();
    const id = client.current_();
    expect(isValidDeviceId(id)).toBe(true);
    expect(id).toHaveLength(22);
    expect(mem.get(ID_KEY)).toBe(id);
    expect(mem.get(FRESH_KEY)).toBe(id);
    expect(mem.get(PENDING_KEY)).toBe(id);
    expect(isFresh(client, id)).toBe(true);
    expect(client.source_()).toBe('minted');
    expect(evidence).not.toHaveBeenCalled();
    // Echoed back: the id stands, and only now is its fingerprint worth computing.
    client.adopt_(id, id, true);
    expect(evidence).toHaveBeenCalledWith(id);
  });

  test('a fresh id that yields to the cookie never has its evidence computed', () => {
    const { client, evidence } = setup();
    client.adopt_(COOKIE, client.current_(), true);
    expect(client.current_()).toBe(COOKIE);
    expect(evidence).not.toHaveBeenCalled();
  });

  test('a stored id wins: not fresh, no evidence, source stored', () => {
    const { client, evidence } = setup({ stored: { [ID_KEY]: STORED } });
    expect(client.current_()).toBe(STORED);
    expect(isFresh(client, STORED)).toBe(false);
    expect(client.source_()).toBe('stored');
    expect(evidence).not.toHaveBeenCalled();
  });

  test('a stored id still marked fresh stays fresh, and its pending evidence waits for the answer', () => {
    const { client, evidence } = setup({
      stored: { [ID_KEY]: STORED, [FRESH_KEY]: STORED, [PENDING_KEY]: STORED },
    });
    expect(isFresh(client, client.current_())).toBe(true);
    expect(evidence).not.toHaveBeenCalled();
    client.adopt_(STORED, STORED, true);
    expect(evidence).toHaveBeenCalledWith(STORED);
  });

  test('pending evidence of a stored id that already stood is started on the page load', () => {
    const { client, evidence } = setup({ stored: { [ID_KEY]: STORED, [PENDING_KEY]: STORED } });
    client.current_();
    expect(evidence).toHaveBeenCalledWith(STORED);
  });

  test('a fresh id echoed back is answered: no longer fresh, in memory and in storage', () => {
    const { client, mem } = setup();
    const id = client.current_();
    client.adopt_(id, id);
    expect(isFresh(client, id)).toBe(false);
    expect(mem.get(FRESH_KEY)).toBeNull();
    expect(client.current_()).toBe(id);
  });

  test('a fresh id yields to the cookie: the echo is adopted and stored, the evidence dropped', () => {
    const { client, mem } = setup();
    const id = client.current_();
    client.adopt_(COOKIE, id);
    expect(client.current_()).toBe(COOKIE);
    expect(client.source_()).toBe('cookie');
    expect(isFresh(client, COOKIE)).toBe(false);
    expect(mem.get(ID_KEY)).toBe(COOKIE);
    expect(mem.get(PENDING_KEY)).toBeNull();
  });

  test('an echo for a request that did not carry the fresh id is never adopted', () => {
    const { client } = setup();
    const id = client.current_();
    client.adopt_(COOKIE, undefined);
    client.adopt_(COOKIE, OTHER);
    expect(client.current_()).toBe(id);
    expect(isFresh(client, id)).toBe(true);
  });

  test('an echo differing from a stored (not fresh) id is never adopted, even for a request that carried it', () => {
    const { client, mem } = setup({ stored: { [ID_KEY]: STORED } });
    client.adopt_(COOKIE, STORED);
    client.adopt_(COOKIE, undefined);
    expect(client.current_()).toBe(STORED);
    expect(mem.writes).toEqual([]);
  });

  test('once answered, a later differing echo is not adopted', () => {
    const { client } = setup();
    const id = client.current_();
    client.adopt_(id, id);
    client.adopt_(COOKIE, id);
    expect(client.current_()).toBe(id);
  });

  test('with unusable storage nothing is minted and the collector echo is adopted', () => {
    const { client, evidence } = setup({ usable: false });
    expect(client.current_()).toBeNull();
    expect(evidence).not.toHaveBeenCalled();
    client.adopt_(COOKIE, null);
    expect(client.current_()).toBe(COOKIE);
    expect(client.source_()).toBe('collector');
    expect(isFresh(client, COOKIE)).toBe(false);
    // An echo for a request made without the id (an expired token) does not swap it.
    client.adopt_(OTHER, undefined);
    expect(client.current_()).toBe(COOKIE);
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
          const minted = setup();
          const id = minted.client.current_();
          minted.client.adopt_(junk, id);
          expect(minted.client.current_()).toBe(id);
          const blocked = setup({ usable: false });
          blocked.client.adopt_(junk, null);
          expect(blocked.client.current_()).toBeNull();
        },
      ),
    );
  });

  test('minted ids are distinct (128 random bits each)', () => {
    const ids = new Set(Array.from({ length: 200 }, () => setup().client.current_()));
    expect(ids.size).toBe(200);
  });

  test.each(['pending', 'denied'] as const)(
    'under %s consent nothing is read, minted, stored or adopted',
    (consent) => {
      const { client, evidence, mem } = setup({ stored: { [ID_KEY]: STORED }, consent });
      expect(client.current_()).toBeNull();
      client.adopt_(COOKIE, null);
      expect(client.current_()).toBeNull();
      expect(client.source_()).toBeNull();
      expect(evidence).not.toHaveBeenCalled();
      expect(mem.writes).toEqual([]);
    },
  );

  test('withdrawing consent answers the old id (read, never minted) and unstores everything', () => {
    const used = setup({ stored: { [ID_KEY]: STORED, [PENDING_KEY]: STORED } });
    expect(used.client.current_()).toBe(STORED);
    expect(used.client.setConsent('denied')).toBe(STORED);
    expect(used.client.current_()).toBeNull();
    expect([ID_KEY, FRESH_KEY, PENDING_KEY].map(used.mem.get)).toEqual([null, null, null]);
    // Never used on this page: the stored id is still the one to name.
    const unused = setup({ stored: { [ID_KEY]: STORED } });
    expect(unused.client.setConsent('pending')).toBe(STORED);
    // Nothing stored: nothing minted to be withdrawn.
    const none = setup();
    expect(none.client.setConsent('denied')).toBeNull();
    expect(none.mem.writes).toEqual([]);
  });

  test('replace runs the work with the old id and no id meanwhile, then mints an id that is never fingerprinted', async () => {
    const { client, mem, evidence } = setup({ stored: { [ID_KEY]: STORED } });
    expect(client.current_()).toBe(STORED);
    let during: (string | null)[] = [];
    const done = client.replaceId_(async (old) => {
      during = [old, client.current_(), mem.get(ID_KEY)];
      return 'ok';
    });
    let readied = false;
    const ready = client.ready_().then(() => (readied = true));
    await expect(done).resolves.toBe('ok');
    await ready;
    expect(readied).toBe(true);
    expect(during).toEqual([STORED, null, null]);
    const next = client.current_();
    expect(isValidDeviceId(next)).toBe(true);
    expect(next).not.toBe(STORED);
    expect(client.source_()).toBe('minted');
    expect(mem.get(ID_KEY)).toBe(next);
    expect(mem.get(PENDING_KEY)).toBeNull();
    expect(evidence).not.toHaveBeenCalled();
  });

  test('an id minted by a replace is not fresh, names the id it replaced until answered 2xx, and never adopts an echo', async () => {
    const { client, mem, evidence } = setup({ stored: { [ID_KEY]: STORED } });
    await client.replaceId_(async () => 'ok');
    const next = client.current_()!;
    expect(client.requestHeaders_(next)).toEqual({
      'X-Device-Fingerprint': next,
      'X-Device-Replaces': STORED,
    });
    expect(mem.get(REPLACES_KEY)).toBe(STORED);
    // The old cookie's echo is never taken, on a 2xx or not.
    client.adopt_(STORED, next, false);
    client.adopt_(STORED, next, true);
    expect(client.current_()).toBe(next);
    expect(mem.get(ID_KEY)).toBe(next);
    // The 2xx above ended the marker: in memory and in storage.
    expect(client.requestHeaders_(next)).toEqual({ 'X-Device-Fingerprint': next });
    expect(mem.get(REPLACES_KEY)).toBeNull();
    expect(evidence).not.toHaveBeenCalled();
  });

  test('the marker stays through failed answers and answers to other ids, and survives a page load', async () => {
    const { client, mem } = setup({ stored: { [ID_KEY]: STORED } });
    await client.replaceId_(async () => 'ok');
    const next = client.current_()!;
    client.adopt_(next, next, false);
    client.adopt_(undefined, null, true);
    client.adopt_(undefined, STORED, true);
    expect(client.requestHeaders_(next)['X-Device-Replaces']).toBe(STORED);
    // Never on a request carrying another id, or none.
    expect(client.requestHeaders_(null)['X-Device-Replaces']).toBeUndefined();
    expect(client.requestHeaders_(OTHER)['X-Device-Replaces']).toBeUndefined();
    // A later page load over the same storage goes on naming it.
    const later = createDeviceIdClient('granted', mem.storage, vi.fn());
    expect(later.current_()).toBe(next);
    expect(later.requestHeaders_(next)).toEqual({
      'X-Device-Fingerprint': next,
      'X-Device-Replaces': STORED,
    });
  });

  test('a second replace before the first was answered names the id the cookie still holds', async () => {
    const { client } = setup({ stored: { [ID_KEY]: STORED } });
    await client.replaceId_(async () => 'ok');
    await client.replaceId_(async () => 'ok');
    const next = client.current_()!;
    expect(client.requestHeaders_(next)['X-Device-Replaces']).toBe(STORED);
  });

  test('a replace where storage is unusable keeps the new id in memory: the old cookie never comes back', async () => {
    const { client } = setup({ usable: false });
    client.adopt_(COOKIE, null);
    expect(client.current_()).toBe(COOKIE);
    await client.replaceId_(async () => 'ok');
    const next = client.current_()!;
    expect(next).not.toBe(COOKIE);
    expect(client.requestHeaders_(next)['X-Device-Replaces']).toBe(COOKIE);
    client.adopt_(COOKIE, next, true);
    client.adopt_(COOKIE, null, true);
    expect(client.current_()).toBe(next);
  });

  test('a grant after a withdrawal starts a new id that replaces the withdrawn one, never fingerprinted', () => {
    const { client, mem, evidence } = setup({ stored: { [ID_KEY]: STORED } });
    expect(client.current_()).toBe(STORED);
    expect(client.setConsent('denied')).toBe(STORED);
    expect(mem.get(ID_KEY)).toBeNull();
    client.setConsent('granted');
    const next = client.current_()!;
    expect(isValidDeviceId(next)).toBe(true);
    expect(next).not.toBe(STORED);
    expect(client.requestHeaders_(next)).toEqual({
      'X-Device-Fingerprint': next,
      'X-Device-Replaces': STORED,
    });
    client.adopt_(STORED, next, true);
    expect(client.current_()).toBe(next);
    expect(evidence).not.toHaveBeenCalled();
  });

  test('a grant after a withdrawal ignores an id another tab stored meanwhile', () => {
    const { client, mem } = setup({ stored: { [ID_KEY]: STORED } });
    client.current_();
    client.setConsent('pending');
    mem.storage.set(ID_KEY, OTHER);
    client.setConsent('granted');
    expect(client.current_()).not.toBe(OTHER);
    expect(client.current_()).not.toBe(STORED);
  });
});
