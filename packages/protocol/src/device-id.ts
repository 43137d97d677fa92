/**
 * Device id rules (../shared/CONTRACT.md, Device id): 16 to 64 characters of `[A-Za-z0-9_-]`, not one
 * character repeated, not a junk value. Anything else is treated as absent, never as an error.
 */

const FORMAT = /^[A-Za-z0-9_-]{16,64}$/;
const REPEATED = /^(.)\1*$/;
// Values broken clients send in place of an id. Most already fail FORMAT; listed so the rule stays
// explicit if the format is ever widened.
const JUNK = new Set(['null', 'undefined', 'anonymous', 'guest', '[object object]', 'nan']);

/** True when `value` is a usable device id. Never throws, whatever it is given. */
export function isValidDeviceId(value: unknown): value is string {
  return (
    typeof value === 'string' && FORMAT.test(value) && !REPEATED.test(value) && !JUNK.has(value.toLowerCase())
  );
}

/** The id when valid, else `null`: the one way to read an untrusted id. */
export function toDeviceId(value: unknown): string | null {
  return isValidDeviceId(value) ? value : null;
}
