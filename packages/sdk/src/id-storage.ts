/**
 * The stored device id: localStorage under `devicelink:device-id`, with a memory copy that takes over
 * when storage is blocked (Safari private mode, sandboxed iframes: reading `localStorage` throws), its
 * methods throw, or it is full. A storage failure is a cache miss, never an error.
 */
import { STORAGE_KEY, toDeviceId } from '@devicelink/protocol';

/** Where the device id is kept between page loads. */
export interface IdStorage {
  /** The stored id, or null when none (or a junk value) is stored. */
  read(): string | null;
  /** Stores `id`; kept in memory when localStorage refuses. */
  write(id: string): void;
  /** Forgets the id (consent withdrawn). */
  clear(): void;
}

/** Creates the storage. Nothing is read until the first `read()`. */
export function createIdStorage(): IdStorage {
  let memory: string | null = null;
  // Every access goes through here: even reading `globalThis.localStorage` can throw.
  const attempt = <T>(use: (s: Storage) => T): T | undefined => {
    try {
      return use(globalThis.localStorage);
    } catch {
      return undefined;
    }
  };
  return {
    read: () => memory ?? toDeviceId(attempt((s) => s.getItem(STORAGE_KEY))),
    write(id) {
      memory = id;
      attempt((s) => s.setItem(STORAGE_KEY, id));
    },
    clear() {
      memory = null;
      attempt((s) => s.removeItem(STORAGE_KEY));
    },
  };
}
