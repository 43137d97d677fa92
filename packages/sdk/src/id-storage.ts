/**
 * What the SDK keeps in localStorage (docs/protocol.md, SDK): the device id, the fresh marker of a minted
 * id, the fingerprint evidence still to send and the id a replacement replaced. A storage failure (Safari private mode, sandboxed
 * iframes: reading `localStorage` throws; methods that throw; a full quota) is a miss, never an error;
 * a write reports whether it held, so the SDK knows when the cookie alone must carry the device.
 */
import { attempt } from './attempt.js';

/** The device id (the protocol's key, no copy of it). */
export { STORAGE_KEY as ID_KEY } from '@devicelink/protocol';
/** The id that was minted here and not yet answered by the collector (fresh). */
export const FRESH_KEY = 'devicelink:device-fresh';
/** The minted id whose fingerprint evidence has not been sent yet. */
export const PENDING_KEY = 'devicelink:fp-pending';
/** The id a reset, forget or re-grant replaced, until a request with the new id is answered 2xx. */
export const REPLACES_KEY = 'devicelink:device-replaces';

/** Keys and values in localStorage, failures read as misses. */
export interface IdStorage {
  /** The value under `key`, or null (none, or storage unusable). */
  get(key: string): string | null;
  /** Stores `value`; false when localStorage refused it (or did not keep it). */
  set(key: string, value: string): boolean;
  /** Removes the keys. */
  remove(...keys: string[]): void;
}

/** Creates the storage. Nothing is read until the first call. */
export function createIdStorage(): IdStorage {
  return {
    // Every access is attempted: even reading `localStorage` can throw.
    get: (key) => attempt(() => localStorage.getItem(key)) ?? null,
    set: (key, value) =>
      attempt(() => {
        localStorage.setItem(key, value);
        // Read back: some embedded browsers accept writes and keep nothing.
        return localStorage.getItem(key) === value;
      }) === true,
    remove(...keys) {
      for (const key of keys) attempt(() => localStorage.removeItem(key));
    },
  };
}
