/**
 * The network hash of a request (docs/protocol.md, Bots and automation): a keyed hash of the client's
 * /24 (IPv4) or /64 (IPv6) under the store's salt of the UTC day, stored with the session so the
 * persister's fleet job can group fresh ids by network without ever holding an address. Like
 * `visitorHash`, it cannot be linked across days.
 */
import { createHmac } from 'node:crypto';
import type { DeviceStore } from '../store/device-store.js';
import { networkPrefixes } from '../store/network-prefixes.js';
import { utcDay } from '../store/utc-day.js';

/**
 * The network hash of `address` (base64url of 12 bytes of HMAC-SHA-256), or null when it is not an
 * IP address.
 *
 * @example
 * await networkHash(store, '192.0.2.77'); // the same for every address of 192.0.2.0/24 that day
 */
export async function networkHash(
  store: Pick<DeviceStore, 'dailySalt'>,
  address: string,
  now = Date.now(),
): Promise<string | null> {
  const prefix = networkPrefixes(address);
  if (prefix === null) return null;
  const salt = await store.dailySalt(utcDay(now));
  // Every page view asks, and one network sends many: the day's hashes are kept (bounded), since an
  // HMAC object per request was a measurable share of the ingest path's CPU.
  if (salt !== memo.salt || memo.hashes.size >= MEMO_MAX) {
    memo.salt = salt;
    memo.hashes.clear();
  }
  let hash = memo.hashes.get(prefix.join);
  if (hash === undefined) {
    hash = createHmac('sha256', salt)
      .update(`net\0${prefix.join}`)
      .digest()
      .subarray(0, 12)
      .toString('base64url');
    memo.hashes.set(prefix.join, hash);
  }
  return hash;
}

/** Networks whose hash of the day is kept; past it the memo starts over. */
const MEMO_MAX = 10_000;
const memo: { salt: Buffer | null; hashes: Map<string, string> } = { salt: null, hashes: new Map() };
