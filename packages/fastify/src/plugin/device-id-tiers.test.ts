import { isValidDeviceId } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveTiers } from './device-id-tiers.js';

const A = '0123456789abcdef0123456789abcdef';
const B = 'Bbbbbbbbbbbbbbbbbbbbbbbb_-';
const fixed = () => 'server-generated-id-000';

describe('resolveTiers', () => {
  it('takes the header first, then the body, then the cookie, then a new id', () => {
    expect(resolveTiers({ header: A, bodyDeviceId: B, cookie: undefined }, fixed)).toEqual({
      deviceId: A,
      source: 'header',
      aliasOf: null,
    });
    expect(resolveTiers({ header: undefined, bodyDeviceId: B, cookie: undefined }, fixed).deviceId).toBe(B);
    expect(resolveTiers({ header: 'junk', bodyDeviceId: null, cookie: A }, fixed)).toEqual({
      deviceId: A,
      source: 'cookie',
      aliasOf: null,
    });
    expect(resolveTiers({ header: 'null', bodyDeviceId: {}, cookie: 'guest' }, fixed)).toEqual({
      deviceId: 'server-generated-id-000',
      source: 'server',
      aliasOf: null,
    });
  });

  it('reports a valid cookie that lost to a different client id as an alias', () => {
    expect(resolveTiers({ header: A, bodyDeviceId: undefined, cookie: B }, fixed).aliasOf).toBe(B);
    expect(resolveTiers({ header: A, bodyDeviceId: undefined, cookie: A }, fixed).aliasOf).toBeNull();
    expect(resolveTiers({ header: A, bodyDeviceId: undefined, cookie: 'short' }, fixed).aliasOf).toBeNull();
  });

  it('never throws and only ever answers a valid id, whatever the inputs', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (header, bodyDeviceId, cookie) => {
        const r = resolveTiers({ header, bodyDeviceId, cookie });
        expect(isValidDeviceId(r.deviceId)).toBe(true);
        if (r.aliasOf !== null) expect(isValidDeviceId(r.aliasOf)).toBe(true);
      }),
    );
  });
});
