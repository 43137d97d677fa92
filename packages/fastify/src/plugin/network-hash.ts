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
 * IP address. A promise only when the store's salt of the day is not in hand yet (once a day).
 *
 * @example
 * await networkHash(store, '192.0.2.77'); // the same for every address of 192.0.2.0/24 that day
 */
export function networkHash(
  store: Pick<DeviceStore, 'dailySalt'>,
  address: string,
  now = Date.now(),
): string | null | Promise<string | null> {
  const prefix = networkPrefixes(address);
  if (prefix === null) return null;
  const day = utcDay(now);
  const memo = memos.get(store);
  if (memo !== undefined && memo.day === day) return hashOf(memo, prefix.join);
  return store.dailySalt(day).then((salt) => {
    let fresh = memos.get(store);
    // Every page view asks, and one network sends many: the day's hashes are kept (bounded), since an
    // HMAC object per request was a measurable share of the ingest path's CPU.
    if (fresh === undefined || fresh.day !== day) {
      fresh = { day, salt, hashes: new Map() };
      memos.set(store, fresh);
    }
    return hashOf(fresh, prefix.join);
  });
}

function hashOf(memo: Memo, join: string): string {
  let hash = memo.hashes.get(join);
  if (hash === undefined) {
    if (memo.hashes.size >= MEMO_MAX) memo.hashes.clear();
    hash = createHmac('sha256', memo.salt)
      .update(`net\0${join}`)
      .digest()
      .subarray(0, 12)
      .toString('base64url');
    memo.hashes.set(join, hash);
  }
  return hash;
}

/** Networks whose hash of the day is kept; past it the memo starts over. */
const MEMO_MAX = 10_000;
interface Memo {
  day: string;
  salt: Buffer;
  hashes: Map<string, string>;
}
/** Per store: two stores (tests, two apps in one process) have two salts. */
const memos = new WeakMap<object, Memo>();
