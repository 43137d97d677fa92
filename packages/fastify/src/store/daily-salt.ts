/**
 * The daily salt (visitor hashes, network hashes, hashed rate-limit addresses): 32 random bytes per UTC
 * day, shared by every process on a store, deleted at the end of the next UTC day (requests that
 * straddle midnight still find the day before's).
 *
 * On Redis it is kept sealed when the store has a `saltKey`: AES-256-GCM under that key, the day as
 * additional data (a salt cannot be moved to another day), under a key name that carries a short id of
 * the key, so whoever reads Redis alone holds ciphertext: the visitor hashes (a keyed hash of address,
 * user agent and language) cannot be reversed by trying every address. A new `saltKey` (rotation) starts
 * a new salt under its own name: the hashes of that day change once, as at midnight. Without a key the
 * salt is stored as it is (base64), as before.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const DAY_MS = 86_400_000;

/** Bytes of a salt key (AES-256). */
export const SALT_KEY_BYTES = 32;

/** The version tag of a sealed salt. */
const SEALED = 'g1';

/** Thrown when a stored salt cannot be opened with the store's key (tampered with, or written by hand). */
class SaltSealError extends Error {
  constructor(day: string) {
    super(`the daily salt of ${day} in the store cannot be decrypted with this saltKey`);
    this.name = 'SaltSealError';
  }
}

/**
 * How long the salt of `day` (`YYYY-MM-DD`) is kept from `now`: until the end of the next UTC day,
 * at least a minute.
 */
export function saltLifetimeMs(day: string, now = Date.now()): number {
  const start = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(start)) return 2 * DAY_MS;
  return Math.max(60_000, start + 2 * DAY_MS - now);
}

/** A short id of `key` (not reversible): part of the Redis key name of the salts sealed under it. */
export function saltKeyId(key: Uint8Array): string {
  return createHmac('sha256', key).update('devicelink salt key id').digest('base64url').slice(0, 8);
}

/** `salt` sealed under `key` for `day`: `g1.<iv>.<ciphertext>.<tag>`, base64url parts. */
export function sealSalt(key: Uint8Array, day: string, salt: Uint8Array): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`devicelink salt ${day}`));
  const sealed = Buffer.concat([cipher.update(salt), cipher.final()]);
  return [SEALED, iv, sealed, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** The salt sealed by {@link sealSalt}; throws {@link SaltSealError} when it does not open. */
export function openSalt(key: Uint8Array, day: string, stored: string): Buffer {
  const [tag, iv, sealed, auth] = stored.split('.');
  if (tag !== SEALED || !iv || sealed === undefined || !auth) throw new SaltSealError(day);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`devicelink salt ${day}`));
    decipher.setAuthTag(Buffer.from(auth, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]);
  } catch {
    throw new SaltSealError(day);
  }
}
