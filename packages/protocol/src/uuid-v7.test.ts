import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7 } from './uuid-v7.js';

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
