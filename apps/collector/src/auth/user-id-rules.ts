/**
 * What a user id (a JWT `sub`, or the id an admin erases) may hold: 1 to 256 characters, none of them a
 * Unicode control (Cc: C0, DEL and C1), a line or paragraph separator (U+2028, U+2029), or a bidi
 * control (U+200E/F marks, U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates). A `sub`
 * becomes a Postgres `text` (which refuses NUL), a log field and a line in an admin's terminal, where
 * such characters hide or reorder what is shown (Trojan Source, CVE-2021-42574).
 */

/** Longest accepted user id. */
export const MAX_USER_ID_LENGTH = 256;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * True for a user id the collector accepts.
 *
 * @example
 * isAcceptedUserId('user-42'); // true
 * isAcceptedUserId('evil\u202Egnp.exe'); // false: a right-to-left override
 */
export function isAcceptedUserId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_USER_ID_LENGTH &&
    !FORBIDDEN.test(value)
  );
}
