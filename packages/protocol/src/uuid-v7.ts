// Random bytes are drawn in blocks: one getRandomValues call per 256 ids instead of one per id (it
// showed in the collector's CPU profile at a few percent of a request).
const POOL_IDS = 256;
let pool: Uint8Array<ArrayBuffer> | undefined;
let offset = 0;
/** Two hex digits of each byte value. */
const HEX = /* @__PURE__ */ Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version, 74 random bits. Written here rather than taken
 * from a package because the SDK's whole core entry has a 3 KB budget and both sides need the same
 * format; this is the entire algorithm. Uses Web Crypto, present in browsers and Node 20.
 */
export function uuidv7(now: number = Date.now()): string {
  if (!pool || offset === pool.length) {
    pool ??= new Uint8Array(16 * POOL_IDS);
    globalThis.crypto.getRandomValues(pool);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + 16);
  offset += 16;
  // 48-bit Unix milliseconds as 12 hex digits (modulo 2^48, as the field holds), then version 7 and the
  // variant over the random bytes 6 to 15.
  let hex = (Math.max(0, Math.floor(now)) % 2 ** 48).toString(16).padStart(12, '0');
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  for (let i = 6; i < 16; i++) hex += HEX[b[i]!];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for any RFC 9562 UUID string (event ids from clients may be any version). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * True for an id made of one hex digit repeated (the nil UUID `00000000-0000-0000-0000-000000000000`,
 * the max UUID `ffffffff-…`, `11111111-…`): ids anyone would pick, refused as event ids so that no
 * one can squat them (docs/protocol.md, Persistence).
 */
export function isConstantUuid(value: string): boolean {
  const hex = value.replaceAll('-', '').toLowerCase();
  return hex.length === 32 && hex === hex[0]!.repeat(32);
}

/**
 * The Unix milliseconds in the first 48 bits of a version-7 UUID, or null for any other version. The
 * persister partitions page views by it: a pure function of the id, so a retry lands where the first
 * delivery did.
 *
 * @example
 * uuidV7Time(uuidv7(1_700_000_000_000)); // 1700000000000
 */
export function uuidV7Time(value: string): number | null {
  if (!isUuid(value) || value[14] !== '7') return null;
  return Number.parseInt(value.slice(0, 8) + value.slice(9, 13), 16);
}
