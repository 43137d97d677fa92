/**
 * A deterministic id for an identity link, so a link record delivered twice (a reclaim after a crash
 * between commit and acknowledge) is inserted once.
 */
import { createHash } from 'node:crypto';

/** A UUID (version 8, RFC 9562 custom) derived from device, user and link time. */
export function linkId(deviceId: string, userId: string, ts: number): string {
  const h = createHash('sha256').update(`${deviceId}\u0000${userId}\u0000${ts}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
