/**
 * What the contract suites need from an implementation under test, and small shared helpers.
 */
import { randomBytes } from 'node:crypto';
import { partitionOf, uuidv7 } from '@devicelink/protocol';
import type { EventQueue, QueueEntry } from '../src/event-queue.js';
import type { QueuedPageview, SessionStore, TouchInput } from '../src/session-store.js';

/** One fresh, isolated store (its own key prefix or its own memory). */
export interface StoreHarness {
  sessions: SessionStore;
  queue: EventQueue;
  /**
   * Lets `ms` pass for the store: the memory store's injected clock moves at once; Redis expires
   * keys in real time, so there this does nothing and the tests poll with `waitFor`.
   */
  passTime(ms: number): void;
  /** Every stored key that names the device (a SCAN of the prefix); null when the store has no keys. */
  keysOf(deviceId: string): Promise<string[] | null>;
  close(): Promise<void>;
}

/** Options a suite may ask for. */
export interface HarnessOptions {
  sessionIdleSeconds?: number;
  sessionMaxSeconds?: number;
  partitions?: number;
}

export type MakeHarness = (options?: HarnessOptions) => Promise<StoreHarness>;

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
export async function drain(queue: EventQueue, key: string, consumer = 'reader'): Promise<QueueEntry[]> {
  const partition = partitionOf(key, queue.partitions);
  const out: QueueEntry[] = [];
  for (;;) {
    const batch = await queue.read(partition, consumer, 500);
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}
