/**
 * `createMemoryStore`: the embedded backend (no Redis): sessions and queue in process, with the Redis
 * store's semantics, and an optional durable journal of the queue.
 */

import type { PartitionLeases, QueueConsumer } from '@devicelink/protocol';
import { composeStore } from '../store/compose-store.js';
import type { DeviceAdmin } from '../store/device-admin.js';
import type { DeviceStore } from '../store/device-store.js';
import { positiveInt, resolveStoreOptions, type StoreOptions } from '../store/store-options.js';
import { MemoryLeases } from './memory-leases.js';
import { MemoryQueue } from './memory-queue.js';
import { MemorySessions } from './memory-sessions.js';
import { readSessionSnapshot, writeSessionSnapshot } from './session-snapshot.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions extends StoreOptions {
  /** Most live sessions kept (default 100,000); beyond it the least recently touched is dropped. */
  maxSessions?: number;
  /** Durable journal of the queue (JSON lines); unacknowledged records are replayed at construction. */
  journalPath?: string;
  /**
   * Snapshot file of the live sessions (and the dedupe, tombstones and salts beside them): read at
   * construction, written every `snapshotIntervalMs` when something changed and at `close()`, so a
   * restart continues each live session (same id, page count going on).
   */
  snapshotPath?: string;
  /** How often the snapshot is written when something changed, ms (default 10,000). */
  snapshotIntervalMs?: number;
  /** Clock (Unix ms); injectable so tests can move time. */
  now?: () => number;
  /** How often expired entries are swept, ms (default 60,000). */
  sweepIntervalMs?: number;
  /**
   * Most records queued and not yet persisted (default 1,000,000). Beyond it `touch`, `convert`,
   * `queueUserEvents` and `recordAlias` throw QueueFullError and change nothing.
   */
  maxQueued?: number;
}

/**
 * The memory store: the plugin's `DeviceStore`, the admin side, the queue's consumer side and the
 * partition leases in one object. `close()` stops the timers and writes the last snapshot.
 */
export interface MemoryStore extends DeviceStore, DeviceAdmin, QueueConsumer, PartitionLeases {
  close(): Promise<void>;
}

/**
 * The embedded store. Synchronous to create: with `journalPath`, the journal is replayed before this
 * returns. Only a persister in the same process can drain its queue.
 *
 * @example
 * const store = createMemoryStore({ journalPath: '.devicelink/queue.jsonl' });
 * await app.register(devicelink, { store });
 * app.addHook('onClose', () => store.close());
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const o = resolveStoreOptions(options);
  const now = options.now ?? Date.now;
  const maxSessions = positiveInt('maxSessions', options.maxSessions ?? 100_000);
  const maxQueued = positiveInt('maxQueued', options.maxQueued ?? 1_000_000);
  const sweepIntervalMs = positiveInt('sweepIntervalMs', options.sweepIntervalMs ?? 60_000);
  const leases = new MemoryLeases(o.partitions, now);
  const queue = new MemoryQueue({
    partitions: o.partitions,
    journalPath: options.journalPath,
    now,
    maxQueued,
    leaseHolder: (partition) => leases.holder(partition),
  });
  const sessions = new MemorySessions(o, queue, now, maxSessions);
  const timer = setInterval(() => sessions.sweep(), sweepIntervalMs);
  timer.unref();
  const { snapshotPath } = options;
  let saved = -1;
  const save = () => {
    if (!snapshotPath || sessions.changes() === saved) return;
    saved = sessions.changes();
    writeSessionSnapshot(snapshotPath, sessions.snapshot());
  };
  let snapshots: NodeJS.Timeout | null = null;
  if (snapshotPath) {
    const snapshot = readSessionSnapshot(snapshotPath);
    if (snapshot) sessions.restore(snapshot);
    saved = sessions.changes();
    snapshots = setInterval(
      () => {
        try {
          save();
        } catch {
          // A full disk or a vanished folder: the next tick (or close) tries again.
          saved = -1;
        }
      },
      positiveInt('snapshotIntervalMs', options.snapshotIntervalMs ?? 10_000),
    );
    snapshots.unref();
  }
  let closed = false;
  return {
    ...composeStore(sessions, queue, leases, o.lookbackSeconds / 86_400),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      if (snapshots) clearInterval(snapshots);
      save();
    },
  };
}
