/**
 * What a user id (a JWT `sub`, or the id an admin erases) may hold: 1 to 256 UTF-16 code units of
 * well-formed Unicode (no lone surrogate: UTF-8, and so Postgres, cannot hold one), none of them a
 * Unicode control (Cc: C0, DEL and C1), a line or paragraph separator (U+2028, U+2029), a bidi control
 * (U+061C Arabic letter mark, U+200E/F marks, U+202A–U+202E embeddings and overrides, U+2066–U+2069
 * isolates), an invisible format character (U+200B–U+200D zero widths, U+2060–U+2064 word joiner and
 * invisible operators, U+FEFF) or a tag character (U+E0000–U+E007F). A `sub` becomes a Postgres `text`
 * (which refuses NUL), a log field and a line in an admin's terminal, where such characters hide or
 * reorder what is shown (Trojan Source, CVE-2021-42574), or make two ids that look the same differ.
 */

/** Longest accepted user id. */
export const MAX_USER_ID_LENGTH = 256;

const FORBIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u{e0000}-\u{e007f}]/u;

/**
 * True for a user id the collector accepts.
 *
 * @example
 * isAcceptedUserId('user-42'); // true
 * isAcceptedUserId('evil\u202Egnp.exe'); // false: a right-to-left override
 * isAcceptedUserId('x\uD800'); // false: a lone surrogate
 */
export function isAcceptedUserId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_USER_ID_LENGTH &&
    value.isWellFormed() &&
    !FORBIDDEN.test(value)
  );
}
