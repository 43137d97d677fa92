/**
 * Device id rules (docs/protocol.md, Device id): 16 to 64 characters of `[A-Za-z0-9_-]`, not one
 * character repeated, not a junk value. Anything else is treated as absent, never as an error.
 */

const FORMAT = /^[A-Za-z0-9_-]{16,64}$/;
const REPEATED = /^(.)\1*$/;
// The junk values broken clients send in place of an id (`null`, `undefined`, `anonymous`, `guest`,
// `[object Object]`, `NaN`) all fail FORMAT: too short or outside the alphabet. No separate list, since
// this code ships in the SDK's 3 KB core; device-id.test.ts pins each of them down, so widening FORMAT
// would fail there first.

/** True when `value` is a usable device id. Never throws, whatever it is given. */
export function isValidDeviceId(value: unknown): value is string {
  return typeof value === 'string' && FORMAT.test(value) && !REPEATED.test(value);
}

/** The id when valid, else `null`: the one way to read an untrusted id. */
export function toDeviceId(value: unknown): string | null {
  return isValidDeviceId(value) ? value : null;
}
