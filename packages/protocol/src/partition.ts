/**
 * Queue partitioning: a device's session and its queue entries live in partition N = FNV-1a 32-bit
 * hash of the id modulo the partition count (the Redis backend keeps them in one slot with the tag
 * `{pN}`, see @devicelink/fastify's key layout).
 */

let encoder: TextEncoder | undefined;

/** FNV-1a, 32-bit, over the UTF-8 bytes of `input`; an unsigned integer. */
export function fnv1a32(input: string): number {
  let hash = 0x811c9dc5;
  // ASCII (every device id, most user ids): a character is its UTF-8 byte, so no encoding is needed
  // (asked several times per ingest request, the TextEncoder copy showed in the collector's profile).
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c > 0x7f) return fnv1a32Utf8(input);
    hash ^= c;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function fnv1a32Utf8(input: string): number {
  encoder ??= new TextEncoder();
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(input)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The partition (0 to `partitions - 1`) of a device id or, for authenticated events, a user id. */
export function partitionOf(id: string, partitions: number): number {
  return fnv1a32(id) % partitions;
}
