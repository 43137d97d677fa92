/**
 * Test helpers for the device id client's unit tests: an in-memory IdStorage, and a client over it
 * (the browser's localStorage is covered by id-storage.test.ts).
 */
import { type Mock, vi } from 'vitest';
import type { Consent } from '../src/consent.js';
import { createDeviceIdClient, type DeviceIdClient } from '../src/device-id-client.js';
import type { IdStorage } from '../src/id-storage.js';

/** An in-memory IdStorage; `usable: false` refuses every write, like a blocked localStorage. */
export function memoryStorage(initial: Record<string, string> = {}, usable = true) {
  const values = new Map(Object.entries(initial));
  const writes: string[] = [];
  const storage: IdStorage = {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => {
      writes.push(key);
      if (usable) values.set(key, value);
      return usable;
    },
    remove: (...keys) => {
      for (const key of keys) values.delete(key);
    },
  };
  return { storage, writes, get: (key: string) => values.get(key) ?? null };
}

/** True when a request carrying `id` goes as fresh. */
export const isFresh = (client: DeviceIdClient, id: string | null) =>
  client.requestHeaders_(id)['X-Device-Fresh'] === '1';

/** A client over a memory storage holding `stored`, with a spy for its evidence callback. */
export function setup(opts: { stored?: Record<string, string>; consent?: Consent; usable?: boolean } = {}): {
  client: DeviceIdClient;
  mem: ReturnType<typeof memoryStorage>;
  evidence: Mock<(id: string) => void>;
} {
  const mem = memoryStorage(opts.stored, opts.usable ?? true);
  const evidence = vi.fn<(id: string) => void>();
  const client = createDeviceIdClient(opts.consent ?? 'granted', mem.storage, evidence);
  return { client, mem, evidence };
}
