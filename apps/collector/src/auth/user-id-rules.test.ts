import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAcceptedUserId, MAX_USER_ID_LENGTH } from './user-id-rules.js';

const FORBIDDEN_CODE_POINTS = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x2028,
  0x2029,
  0x200e,
  0x200f,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
  0x061c,
  0x200b,
  0x200c,
  0x200d,
  0x2060,
  0x2064,
  0xfeff,
  0xe0001,
  0xe0041,
  0xe007f,
];

describe('user id rules', () => {
  it.each(['user-42', 'alice@example.com', 'Zoë', '用户', '😀-user', 'a'.repeat(MAX_USER_ID_LENGTH)])(
    'accepts %j',
    (id) => {
      expect(isAcceptedUserId(id)).toBe(true);
    },
  );

  it('refuses every Unicode control, line separator, bidi control, zero-width, format and tag character, wherever it stands', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.constantFrom(...FORBIDDEN_CODE_POINTS),
        fc.string({ maxLength: 20 }),
        (before, cp, after) => {
          expect(isAcceptedUserId(`${before}${String.fromCodePoint(cp)}${after}`)).toBe(false);
        },
      ),
    );
  });

  it.each([
    ['empty', ''],
    ['too long', 'a'.repeat(MAX_USER_ID_LENGTH + 1)],
    ['not a string', 42],
    ['a lone high surrogate', 'x\ud800'],
    ['a lone low surrogate', '\udc00x'],
    ['reversed surrogates', '\udc00\ud800'],
  ])('refuses a user id that is %s', (_name, id) => {
    expect(isAcceptedUserId(id)).toBe(false);
  });
});
