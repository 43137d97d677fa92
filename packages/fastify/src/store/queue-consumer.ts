/**
 * `QueueConsumer`: the reading side of the durable queue (docs/protocol.md, Persistence), taken by a
 * persister (`@devicelink/persister`). A consumer group: `read` new entries, `reclaim` what a dead
 * consumer left pending, `ack` after commit (acknowledge and delete in one step). Nothing unread or
 * unacknowledged is ever trimmed. Checked by `test/queue-consumer.contract.ts` on every backend.
 */
import type { QueueEntry } from '../records/queue-records.js';

/** The queue as its consumer (the persister) sees it. */
export interface QueueConsumer {
  /** Number of partitions: a persister must read the same count the store writes. */
  readonly partitions: number;
  /** Up to `count` entries of `partition` never delivered to any consumer of the group. */
  read(partition: number, consumer: string, count: number): Promise<QueueEntry[]>;
  /** Entries of `partition` delivered but unacknowledged for at least `minIdleMs`, now owned by `consumer`. */
  reclaim(partition: number, consumer: string, minIdleMs: number, count: number): Promise<QueueEntry[]>;
  /** Acknowledges and deletes entries, in one atomic step per partition. */
  ack(partition: number, ids: string[]): Promise<void>;
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
