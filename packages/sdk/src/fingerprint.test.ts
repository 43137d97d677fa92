import { afterEach, describe, expect, test, vi } from 'vitest';
import { fingerprint } from '../test/fake-fingerprint.js';
import { isDeviceLinkError } from './errors.js';
import { createFingerprint } from './fingerprint.js';

vi.mock('@fingerprintjs/fingerprintjs', () => import('../test/fake-fingerprint.js').then((m) => m.install()));

describe('fingerprint', () => {
  afterEach(() => fingerprint.reset());

  test('loads FingerprintJS lazily, once, with monitoring off, and answers its visitorId', async () => {
    const get = createFingerprint();
    expect(fingerprint.imports).toBe(0);
    fingerprint.visitorId.resolve('0123456789abcdef0123456789abcdef');
    const [a, b] = await Promise.all([get(), get()]);
    expect(a).toEqual({ id: '0123456789abcdef0123456789abcdef' });
    expect(b).toBe(a);
    expect(await get()).toBe(a);
    expect(fingerprint.imports).toBe(1);
    expect(fingerprint.loads).toEqual([{ monitoring: false }]);
  });

  test('a failing fingerprint is an { error } value, never a rejection', async () => {
    const get = createFingerprint();
    fingerprint.visitorId.reject(new Error('canvas blocked'));
    const r = await get();
    expect('error' in r && r.error.name).toBe('FingerprintError');
    expect('error' in r && isDeviceLinkError(r.error)).toBe(true);
    expect('error' in r && (r.error.cause as Error).message).toBe('canvas blocked');
  });
});
