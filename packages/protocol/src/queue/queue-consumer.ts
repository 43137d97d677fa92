/**
 * `QueueConsumer`: the reading side of the durable queue (docs/protocol.md, Persistence), taken by a
 * persister (`@devicelink/persister`). A consumer group: `read` new entries, `reclaim` what a dead
 * consumer left pending, `ack` after commit (acknowledge and delete in one step). Nothing unread or
 * unacknowledged is ever trimmed. Checked by `test/queue-consumer.contract.ts` on every backend.
 *
 * With partition leases (`PartitionLeases`), a persister reads, acknowledges and takes over only the
 * partitions it holds: the `leased`/`owner` options make the store refuse the call with
 * `LeaseLostError` when the caller's lease is gone, in the same atomic step as the call itself.
 */
import type { QueueEntry } from './queue-records.js';

/** Options of {@link QueueConsumer.read}. */
export interface ReadOptions {
  /**
   * Re-read the consumer's own pending entries (delivered earlier, not acknowledged, e.g. after a
   * failed ack), oldest first, instead of entries never delivered.
   */
  pending?: boolean;
  /** Refuse with `LeaseLostError`, reading nothing, unless `consumer` holds the partition's lease. */
  leased?: boolean;
}

/** Options of {@link QueueConsumer.ack}. */
export interface AckOptions {
  /** Refuse with `LeaseLostError`, acknowledging nothing, unless `owner` holds the partition's lease. */
  owner?: string;
}

/** What {@link QueueConsumer.takeOver} did. */
export interface TakeOverResult {
  /** Pending entries of other consumers now pending with the new owner. */
  claimed: number;
  /** Consumer names removed from the partition's group (every other one, now holding nothing). */
  removedConsumers: number;
}

/** The queue as its consumer (the persister) sees it. */
export interface QueueConsumer {
  /** Number of partitions: a persister must read the same count the store writes. */
  readonly partitions: number;
  /**
   * How far back a link converts a device's sessions, days, as the store was made with: the persister
   * takes it from here, so the look-back is set in one place (absent: the persister's default, 30).
   */
  readonly conversionLookbackDays?: number;
  /** Up to `count` entries of `partition` never delivered to any consumer of the group. */
  read(partition: number, consumer: string, count: number, options?: ReadOptions): Promise<QueueEntry[]>;
  /** Entries of `partition` delivered but unacknowledged for at least `minIdleMs`, now owned by `consumer`. */
  reclaim(partition: number, consumer: string, minIdleMs: number, count: number): Promise<QueueEntry[]>;
  /** Acknowledges and deletes entries, in one atomic step per partition. */
  ack(partition: number, ids: string[], options?: AckOptions): Promise<void>;
  /**
   * For the holder of the partition's lease (else `LeaseLostError`): moves every pending entry of the
   * partition, whoever holds it, to `consumer` at once (no idle time: the lease makes the partition
   * exclusively its), then removes every other consumer name from the group, in one atomic step. The
   * new owner then reads them with `read(…, { pending: true })`.
   */
  takeOver(partition: number, consumer: string): Promise<TakeOverResult>;
  /** Entries in the partition not yet acknowledged (unread plus pending). */
  depth(partition: number): Promise<number>;
  /**
   * When the partition's oldest unacknowledged entry (read or not) was queued, Unix ms, or null when
   * it is empty. The persister reports its lag from it.
   */
  oldest(partition: number): Promise<number | null>;
  /**
   * Removes `consumer` from the partition's consumer group if it holds no pending entry (a consumer
   * with pending entries is kept, so they stay reclaimable). Resolves with whether it was removed. A
   * persister calls it on a clean stop, so consumer names of past processes do not pile up.
   */
  removeConsumer(partition: number, consumer: string): Promise<boolean>;
}
