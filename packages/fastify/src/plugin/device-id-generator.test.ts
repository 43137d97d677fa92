import { isValidDeviceId } from '@devicelink/protocol';
import { describe, expect, it } from 'vitest';
import { generateDeviceId } from './device-id-generator.js';

describe('generateDeviceId', () => {
  it('makes 22-character base64url ids of 128 bits that pass the validator', () => {
    for (let i = 0; i < 1000; i++) {
      const id = generateDeviceId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(isValidDeviceId(id)).toBe(true);
    }
  });

  it('makes a million ids without a duplicate', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1_000_000; i++) seen.add(generateDeviceId());
    expect(seen.size).toBe(1_000_000);
  });
});
