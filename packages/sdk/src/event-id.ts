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
  const time = now.toString(16).padStart(12, '0');
  // One random byte per random digit: 18 digits of 4 bits (x) and the variant digit, 10 then 2 random
  // bits (y), so 74 random bits.
  const random = crypto.getRandomValues(new Uint8Array(19));
  let i = 0;
  return `${time.slice(0, 8)}-${time.slice(8)}-7xxx-yxxx-xxxxxxxxxxxx`.replace(/[xy]/g, (digit) =>
    (digit === 'y' ? (random[i++]! & 3) | 8 : random[i++]! & 15).toString(16),
  );
}
