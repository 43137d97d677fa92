import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidDeviceId, toDeviceId } from './device-id.js';

const idChar = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'.split(''),
);

describe('device id validator', () => {
  it('accepts a FingerprintJS visitorId (32 hex) and a base64url server id', () => {
    expect(isValidDeviceId('a3f1c2d4e5b6978812ab34cd56ef7890')).toBe(true);
    expect(isValidDeviceId('Zm9vYmFyYmF6cXV4X2lkLQ')).toBe(true);
  });

  it('treats empty, short, long, odd characters, repeated and junk values as absent', () => {
    for (const v of [
      '',
      'abc',
      'a'.repeat(15) + 'b'.repeat(0),
      'x'.repeat(65),
      'abcdefghijklmnop!',
      'abcdefgh ijklmnop',
      '0000000000000000',
      'aaaaaaaaaaaaaaaaaaaaaaaa',
      'null',
      'undefined',
      'Anonymous',
      'GUEST',
      '[object Object]',
      'NaN',
      'abcdefghijklmnopé',
    ]) {
      expect(isValidDeviceId(v), v).toBe(false);
      expect(toDeviceId(v)).toBeNull();
    }
    for (const v of [null, undefined, 42, {}, [], true, Symbol('x')]) expect(isValidDeviceId(v)).toBe(false);
  });

  it('accepts exactly the strings of 16 to 64 allowed characters that are not one repeated character', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 80 }), (s) => {
        const expected = /^[A-Za-z0-9_-]{16,64}$/.test(s) && new Set(s).size > 1;
        expect(isValidDeviceId(s)).toBe(expected);
      }),
    );
    fc.assert(
      fc.property(fc.array(idChar, { minLength: 16, maxLength: 64 }), (chars) => {
        const s = chars.join('');
        expect(isValidDeviceId(s)).toBe(new Set(chars).size > 1);
      }),
    );
  });

  it('never throws on any value', () => {
    fc.assert(fc.property(fc.anything(), (v) => typeof isValidDeviceId(v) === 'boolean'));
  });
});
