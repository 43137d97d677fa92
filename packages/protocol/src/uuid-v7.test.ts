import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isConstantUuid, isUuid, uuidV7Time, uuidv7 } from './uuid-v7.js';

describe('uuidv7', () => {
  it('makes RFC 9562 version-7 ids whose first 48 bits are the time', () => {
    const id = uuidv7(0x0189_a1b2_c3d4);
    expect(id).toMatch(/^0189a1b2-c3d4-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isUuid(id)).toBe(true);
  });

  it('makes distinct ids that sort by time', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('uuidV7Time', () => {
  it('reads back the milliseconds of every version-7 id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        expect(uuidV7Time(uuidv7(ms))).toBe(ms);
      }),
    );
  });

  it('is null for other versions and for what is not a UUID', () => {
    expect(uuidV7Time('0189a1b2-c3d4-4000-8000-000000000001')).toBeNull();
    expect(uuidV7Time('not-a-uuid')).toBeNull();
  });
});

describe('isConstantUuid', () => {
  it('is true for one hex digit repeated, in either case, and false for a fresh id', () => {
    expect(isConstantUuid('00000000-0000-0000-0000-000000000000')).toBe(true);
    expect(isConstantUuid('FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF')).toBe(true);
    expect(isConstantUuid(uuidv7())).toBe(false);
  });
});
