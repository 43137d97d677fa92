/**
 * `visitorHash` (docs/protocol.md, Tiered lookup, tier 4): HMAC-SHA-256 of client IP, User-Agent
 * and Accept-Language under the store's salt of the UTC day, so every collector on one store computes
 * the same hash the same day and a hash cannot be linked across days. The raw IP only passes through.
 */
import { createHmac } from 'node:crypto';
import type { DeviceStore } from '../store/device-store.js';
import { utcDay } from '../store/utc-day.js';

export { utcDay };

/** What the hash is made of. */
export interface VisitorHashInput {
  ip: string;
  userAgent: string | null | undefined;
  acceptLanguage: string | null | undefined;
}

/** Computes visitor hashes under the store's salt of the day (the store caches it). */
export interface VisitorHasher {
  /** base64url of the first 16 bytes of the HMAC (128 bits are plenty for unique counts). */
  hash(input: VisitorHashInput, now?: number): Promise<string>;
}

/**
 * Makes a hasher bound to `store.dailySalt`.
 *
 * @example
 * const hasher = createVisitorHasher(store);
 * const visitorHash = await hasher.hash({ ip: request.ip, userAgent, acceptLanguage });
 */
export function createVisitorHasher(store: Pick<DeviceStore, 'dailySalt'>): VisitorHasher {
  // The salt is cached by the store (one cache per process: the Redis store keeps the days it
  // fetched, the memory store holds them anyway); a failed fetch is simply asked again next time.
  return {
    async hash(input, now = Date.now()) {
      const salt = await store.dailySalt(utcDay(now));
      // NUL separators: no field can contain one (HTTP header values cannot), so the fields cannot
      // run into each other ("a" + "bc" vs "ab" + "c").
      return createHmac('sha256', salt)
        .update(`${input.ip}\0${input.userAgent ?? ''}\0${input.acceptLanguage ?? ''}`)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
    },
  };
}
