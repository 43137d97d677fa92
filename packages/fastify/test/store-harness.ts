/**
 * What the contract suites need from an implementation under test, and small shared helpers.
 */
import { randomBytes } from 'node:crypto';
import type { PageviewRecord, QueueConsumer, QueueEntry, QueueRecord } from '@devicelink/protocol';
import { partitionOf, uuidv7 } from '@devicelink/protocol';
import { afterEach } from 'vitest';
import { createMemoryStore } from '../src/memory/memory-store.js';
import type { CompleteStore } from '../src/store/compose-store.js';
import type { QueuedPageview, TouchInput } from '../src/store/device-store.js';
import { appendForTest } from '../src/testing.js';

/** One fresh, isolated store (its own key prefix or its own memory). */
export interface StoreHarness {
  /** The store under test: request path, admin and queue consumer in one object. */
  store: CompleteStore;
  /** The test-only append onto the queue partition of `key`. */
  append(key: string, records: QueueRecord[]): Promise<void>;
  /**
   * Lets `ms` pass for the store: the memory store's injected clock moves at once; Redis expires
   * keys in real time, so there this does nothing and the tests poll with `waitFor`.
   */
  passTime(ms: number): void;
  /** Every stored key that contains `text` (a SCAN of the prefix); null when the store has no keys. */
  keysOf(text: string): Promise<string[] | null>;
  /**
   * Another store object on the same data, as a second process would open (Redis: the same prefix,
   * with its own in-process state); the memory store, which lives in one process, answers itself.
   */
  twin(): Promise<CompleteStore>;
  close(): Promise<void>;
}

/** Options a suite may ask for. */
export interface HarnessOptions {
  sessionIdleSeconds?: number;
  sessionMaxSeconds?: number;
  partitions?: number;
  recoveryDays?: number;
  joinWindowSeconds?: number;
  recoveryNetworkDailyCap?: number;
  recoveryDailyCap?: number;
  recoveryBlockDailyPercent?: number;
}

export type MakeHarness = (options?: HarnessOptions) => Promise<StoreHarness>;

/** A harness over `store`: `append` goes through the `testing` entry, as tests of other packages do. */
export function harnessOf(
  store: CompleteStore,
  rest: Pick<StoreHarness, 'passTime' | 'keysOf' | 'close'> & Partial<Pick<StoreHarness, 'twin'>>,
): StoreHarness {
  return {
    store,
    append: (key, records) => appendForTest(store, key, records),
    twin: async () => store,
    ...rest,
  };
}

/**
 * `make`, with every harness it made closed after each test (call inside a `describe`): the same
 * set-up for every contract suite.
 */
export function freshHarnesses(make: MakeHarness): MakeHarness {
  const open: StoreHarness[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  return async (o) => {
    const h = await make(o);
    open.push(h);
    return h;
  };
}

/** A valid random device id (22 characters of base64url, like a server-tier id). */
export const newDeviceId = (): string => randomBytes(16).toString('base64url');

/** A page view with a fresh event id. */
export const pageview = (url = 'https://shop.example/'): QueuedPageview => ({
  type: 'pageview',
  url,
  referrer: null,
  id: uuidv7(),
  clientTs: null,
});

/** A touch input for `deviceId` with `events` (one fresh page view by default). */
export const touchInput = (deviceId: string, events: QueuedPageview[] = [pageview()]): TouchInput => ({
  deviceId,
  source: 'header',
  visitorHash: null,
  userAgent: 'Mozilla/5.0 (test)',
  events,
});

/** Reads everything unread of the device's (or key's) partition as `consumer`. */
export async function drain(queue: QueueConsumer, key: string, consumer = 'reader'): Promise<QueueEntry[]> {
  const partition = partitionOf(key, queue.partitions);
  const out: QueueEntry[] = [];
  for (;;) {
    const batch = await queue.read(partition, consumer, 500);
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

/** A queue record of a user's page view (no device), with a fresh event id. */
export const userPageview = (userId: string, url = 'https://app.example/'): PageviewRecord => ({
  kind: 'pageview',
  eventId: uuidv7(),
  deviceId: null,
  userId,
  sessionId: null,
  source: null,
  visitorHash: null,
  userAgent: 'agent',
  url,
  referrer: null,
  clientTs: null,
  serverTs: Date.now(),
});

/** A memory store per harness on an injected clock: expiry tests move the clock instead of waiting. */
export const memoryHarness: MakeHarness = async (o = {}) => {
  let now = Date.now();
  const store = createMemoryStore({ ...o, now: () => now });
  return harnessOf(store, {
    passTime(ms) {
      now += ms;
    },
    async keysOf() {
      return null;
    },
    close: () => store.close(),
  });
};
