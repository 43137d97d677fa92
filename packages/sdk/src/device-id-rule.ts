/**
 * The device-id rule (docs/protocol.md, Device id) in one regular expression: 16 to 64 characters of
 * base64url, not one character repeated. The protocol's `toDeviceId` spells it as two, for the
 * collector; device-id-rule.test.ts checks on generated inputs that both agree.
 */
const DEVICE_ID = /^(?!(.)\1*$)[\w-]{16,64}$/;

/** The id when valid, else `null`: the one way to read an untrusted id. Never throws. */
export function toDeviceId(value: unknown): string | null {
  return typeof value === 'string' && DEVICE_ID.test(value) ? value : null;
}
