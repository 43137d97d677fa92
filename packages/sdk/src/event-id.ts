/**
 * Event ids: UUIDv7 (RFC 9562), as the collector expects (docs/protocol.md, HTTP API). The protocol
 * package has its own `uuidv7`, built for the collector (a pool of random bytes, any time value); a
 * browser sends a few ids a second, so this one draws its 74 random bits per id and takes the time as
 * `Date.now()` gives it. event-id.test.ts checks on generated inputs that both agree on the format.
 */

/**
 * A UUIDv7 for an event made at `now` (Unix ms, an integer below 2^48, as `Date.now()` is until the
 * year 10889): 48 bits of time, version 7, the variant, and random bits from `crypto.getRandomValues`.
 */
export function eventId(now: number): string {
  // Bytes 6 to 15 of the UUID: the version goes into the high nibble of the first, the variant (10)
  // into the two high bits of the third.
  const b = crypto.getRandomValues(new Uint8Array(10));
  b[0] = (b[0]! & 0x0f) | 0x70;
  b[2] = (b[2]! & 0x3f) | 0x80;
  const hex =
    now.toString(16).padStart(12, '0') + Array.from(b, (x) => (x | 256).toString(16).slice(1)).join('');
  return hex.replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}
