import { isValidDeviceId } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveTiers } from './device-id-tiers.js';

const A = '0123456789abcdef0123456789abcdef';
const B = 'Bbbbbbbbbbbbbbbbbbbbbbbb_-';
const fixed = () => 'server-generated-id-000';

describe('resolveTiers', () => {
  it('takes the header first, then the body, then the cookie, then a new id', () => {
    expect(resolveTiers({ header: A, bodyDeviceId: B, cookie: undefined, fresh: false }, fixed)).toEqual({
      deviceId: A,
      source: 'header',
      edge: null,
      minted: false,
    });
    expect(
      resolveTiers({ header: undefined, bodyDeviceId: B, cookie: undefined, fresh: false }, fixed).deviceId,
    ).toBe(B);
    expect(resolveTiers({ header: 'junk', bodyDeviceId: null, cookie: A, fresh: false }, fixed)).toEqual({
      deviceId: A,
      source: 'cookie',
      edge: null,
      minted: false,
    });
    expect(resolveTiers({ header: 'null', bodyDeviceId: {}, cookie: 'guest', fresh: true }, fixed)).toEqual({
      deviceId: 'server-generated-id-000',
      source: 'server',
      edge: null,
      minted: false,
    });
  });

  it('a non-fresh client id beats a different valid cookie and reports a cookie edge', () => {
    expect(resolveTiers({ header: A, bodyDeviceId: undefined, cookie: B, fresh: false }, fixed)).toEqual({
      deviceId: A,
      source: 'header',
      edge: { kind: 'cookie', deviceId: A, otherId: B },
      minted: false,
    });
    expect(
      resolveTiers({ header: A, bodyDeviceId: undefined, cookie: A, fresh: false }, fixed).edge,
    ).toBeNull();
    expect(
      resolveTiers({ header: A, bodyDeviceId: undefined, cookie: 'short', fresh: false }, fixed).edge,
    ).toBeNull();
  });

  it('a fresh id yields to a valid cookie (header or beacon body) and is reported as a yield edge', () => {
    for (const input of [
      { header: A, bodyDeviceId: undefined },
      { header: undefined, bodyDeviceId: A },
    ]) {
      expect(resolveTiers({ ...input, cookie: B, fresh: true }, fixed)).toEqual({
        deviceId: B,
        source: 'cookie',
        edge: { kind: 'yield', deviceId: B, otherId: A },
        minted: false,
      });
    }
  });

  it('a fresh id with no other valid cookie answers and is reported as minted', () => {
    for (const cookie of [undefined, 'junk', A]) {
      expect(resolveTiers({ header: A, bodyDeviceId: undefined, cookie, fresh: true }, fixed)).toEqual({
        deviceId: A,
        source: 'header',
        edge: null,
        minted: true,
      });
    }
  });

  it('under a replacement marker the client id answers with no edge, and replaces only the cookie it names', () => {
    const base = { header: A, bodyDeviceId: undefined, cookie: B, fresh: false };
    expect(resolveTiers({ ...base, marker: { id: B, eligible: true } }, fixed)).toEqual({
      deviceId: A,
      source: 'header',
      edge: null,
      minted: false,
      marker: { replaces: B },
    });
    for (const marker of [
      { id: B, eligible: false },
      { id: 'C'.repeat(22), eligible: true },
      { id: 42, eligible: true },
    ]) {
      expect(resolveTiers({ ...base, marker }, fixed)).toMatchObject({
        deviceId: A,
        edge: null,
        marker: { replaces: null },
      });
    }
    expect(resolveTiers({ ...base, fresh: true, marker: { id: B, eligible: true } }, fixed)).toMatchObject({
      deviceId: B,
      edge: null,
      marker: { replaces: null },
    });
    // The new id in a body (a beacon's field) never replaces, even beside a header marker.
    expect(
      resolveTiers({ ...base, header: undefined, bodyDeviceId: A, marker: { id: B, eligible: true } }, fixed),
    ).toMatchObject({ deviceId: A, edge: null, marker: { replaces: null } });
    // No marker carried: as before.
    expect(resolveTiers({ ...base, marker: { id: undefined, eligible: false } }, fixed).edge?.kind).toBe(
      'cookie',
    );
  });

  it('never throws, only ever answers a valid id, and a fresh id never displaces a valid cookie', () => {
    fc.assert(
      fc.property(
        fc.anything(),
        fc.anything(),
        fc.anything(),
        fc.boolean(),
        (header, bodyDeviceId, cookie, fresh) => {
          const r = resolveTiers({ header, bodyDeviceId, cookie, fresh });
          expect(isValidDeviceId(r.deviceId)).toBe(true);
          if (r.edge !== null) {
            expect(isValidDeviceId(r.edge.otherId)).toBe(true);
            expect(r.edge.deviceId).toBe(r.deviceId);
          }
          if (fresh && isValidDeviceId(cookie)) expect(r.deviceId).toBe(cookie);
        },
      ),
    );
  });
});
