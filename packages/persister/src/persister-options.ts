/**
 * The options of a persister, their defaults, and the status it reports (`persister.ts`).
 */
import { hostname } from 'node:os';
import type { PartitionLeases, QueueConsumer } from '@devicelink/protocol';
import type { Kysely } from 'kysely';
import type { BatchResult } from './batch-writer.js';
import type { Database } from './schema.js';

/** Options of `Persister`. */
export interface PersisterOptions {
  db: Kysely<Database>;
  /** The store's queue and partition leases (a store made by `createRedisStore` or `createMemoryStore`). */
  queue: QueueConsumer & PartitionLeases;
  /**
   * How far back a link converts a device's sessions, days. Default: the store's
   * `conversionLookbackDays` (set it there, once), else 30. Given and different from the store's, the
   * persister refuses to start (the store and the persister would convert different sessions).
   */
  lookbackDays?: number;
  /** Consumer name in the group and member name among the persisters; unique per process by default. */
  consumer?: string;
  /** Entries per read of one partition (default 500); a pass reads every owned partition. */
  batchSize?: number;
  /**
   * Lease time of a partition, ms (default 10,000): a dead or frozen persister's partitions move to a
   * live one within it. Leases are renewed every quarter of it; the Postgres sessions' timeouts
   * (`createDb`'s `statementTimeoutMs`, `lockTimeoutMs`, `idleInTransactionTimeoutMs`) should stay
   * below it: statements under half of it, so that a persister that cannot commit steps down within
   * one lease (it does as soon as another attempt as long as its longest failed one would outlast it).
   */
  leaseMs?: number;
  /**
   * A persister owning partitions that completed no pass for this long reports itself stalled (default:
   * half `leaseMs`; within a lease time without a commit it gives its partitions up). It is published
   * with the heartbeat, so collectors reading it judge a frozen persister stalled too.
   */
  stallMs?: number;
  /** Pause when every partition was empty (default 50 ms). */
  idleMs?: number;
  /** Longest back-off while Postgres is down (default 5 s); also the pause of a halted partition. */
  maxBackoffMs?: number;
  /**
   * Entries of one partition that one pass may dead-letter (default 10). Past it the partition is
   * halted instead, reported and retried after a pause: that many bad records at once more likely mean
   * a bug than bad input, and a bug must not empty the queue into the dead letters.
   */
  maxDeadLettersPerPartition?: number;
  /** How often the oldest queued entry of every partition is probed for the lag (default 1 s). */
  lagProbeMs?: number;
  /** Called with each error (Postgres down, queue errors); the loop carries on. */
  onError?: (err: unknown, context: string) => void;
  /** Called after each committed pass, with the number of entries it wrote. */
  onBatch?: (result: BatchResult, entries: number) => void;
  /** Called when partitions are taken (their leases acquired, pending entries taken over) or lost. */
  onOwnership?: (change: { taken: number[]; lost: number[] }) => void;
}

/** What /readyz and /metrics report. */
export interface PersisterStatus {
  running: boolean;
  /** False after a failed write until the next commit. */
  postgresUp: boolean;
  /**
   * Now minus the queue time of the oldest entry not yet persisted, read or not, ms (0 when the queue
   * is empty). Unread entries are seen through the queue's `oldest` probe (every `lagProbeMs`).
   */
  lagMs: number;
  /** Message of the last error, if the last attempt failed. */
  lastError: string | null;
  /** This persister's member (and consumer) name. */
  member: string;
  /** Partitions it holds the lease of, ascending. */
  partitions: number[];
  /** Live persisters at its last heartbeat (itself included). */
  members: number;
  /** When its last pass completed (committed, or found its partitions empty), Unix ms; null before the first. */
  lastPassAt: number | null;
  /** Owns partitions but completed no pass for `stallMs` (Postgres failing, a pass stuck). */
  stalled: boolean;
  /** Gave up its partitions after failing to commit for a lease time; joins again once Postgres answers. */
  standby: boolean;
  /** Partitions held back because too many of their entries failed alone (see `maxDeadLettersPerPartition`). */
  halted: Array<{ partition: number; error: string }>;
}

/** The options with their defaults filled in. */
export type ResolvedPersisterOptions = Required<
  Omit<PersisterOptions, 'onError' | 'onBatch' | 'onOwnership' | 'stallMs'>
> &
  Pick<PersisterOptions, 'onError' | 'onBatch' | 'onOwnership'> & { stallMs: number };

/** Fills in the defaults documented on {@link PersisterOptions}. */
export function resolvePersisterOptions(options: PersisterOptions): ResolvedPersisterOptions {
  const leaseMs = options.leaseMs ?? 10_000;
  const fromStore = options.queue.conversionLookbackDays;
  if (options.lookbackDays !== undefined && fromStore !== undefined && options.lookbackDays !== fromStore) {
    throw new Error(
      `createPersister: lookbackDays (${options.lookbackDays}) differs from the store's conversionLookbackDays (${fromStore}); set it on the store only`,
    );
  }
  return {
    consumer: `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    batchSize: 500,
    leaseMs,
    idleMs: 50,
    maxBackoffMs: 5_000,
    maxDeadLettersPerPartition: 10,
    lagProbeMs: 1_000,
    ...options,
    lookbackDays: options.lookbackDays ?? fromStore ?? 30,
    stallMs: options.stallMs ?? leaseMs / 2,
  };
}
