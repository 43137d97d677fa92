import { isValidDeviceId } from '@devicelink/protocol';
import { describe, expect, test } from 'vitest';
import { mintDeviceId } from './mint-id.js';

describe('mintDeviceId', () => {
  test('mints 22 base64url characters (128 bits), valid by the protocol, different every time', () => {
    const ids = Array.from({ length: 1000 }, mintDeviceId);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(isValidDeviceId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('the bits come from crypto.getRandomValues', () => {
    const original = crypto.getRandomValues;
    crypto.getRandomValues = <T extends ArrayBufferView | null>(array: T) => {
      new Uint8Array(array!.buffer).set([251, 239, 190, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      return array;
    };
    try {
      // 0xfb 0xef 0xbe is "++++" in base64, "----" in base64url.
      expect(mintDeviceId().slice(0, 4)).toBe('----');
    } finally {
      crypto.getRandomValues = original;
    }
  });
});
