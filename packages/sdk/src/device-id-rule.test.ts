import { toDeviceId as protocolToDeviceId } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { toDeviceId } from './device-id-rule.js';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// Ids near the rule's edges: base64url of any length around 16 to 64, one character repeated, and
// strings with a character outside the alphabet (unicode, `=`, `+`, `/`, space, newline).
const ids = fc.oneof(
  fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 10, maxLength: 70 }),
  fc.tuple(fc.constantFrom(...BASE64URL), fc.integer({ min: 1, max: 70 })).map(([c, n]) => c.repeat(n)),
  fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 16, maxLength: 30 }),
      fc.string({ minLength: 1, maxLength: 3 }),
      fc.nat(30),
    )
    .map(([id, junk, at]) => id.slice(0, at) + junk + id.slice(at)),
  fc.constantFrom(
    `${'a'.repeat(16)}\n`,
    `${'ab'.repeat(8)}\n`,
    'aaaaaaaaaaaaaaaaB',
    'Baaaaaaaaaaaaaaaa',
    'aaaaaaaaaaaaaaaa',
  ),
);

describe('toDeviceId', () => {
  test('agrees with the protocol on generated ids', () => {
    fc.assert(
      fc.property(ids, (id) => {
        expect(toDeviceId(id)).toBe(protocolToDeviceId(id));
      }),
      { numRuns: 2000 },
    );
  });

  test('agrees with the protocol on values that are not strings', () => {
    for (const value of [
      null,
      undefined,
      0,
      1e20,
      {},
      ['a'.repeat(20)],
      { toString: () => 'abcdefghijklmnop' },
    ]) {
      expect(toDeviceId(value)).toBe(protocolToDeviceId(value));
    }
  });
});
