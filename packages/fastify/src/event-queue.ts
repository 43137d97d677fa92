/**
 * The durable event queue (../shared/CONTRACT.md, Persistence). Producers are the session store's
 * scripts (page views, links, aliases, erasures of a device land in the device's partition; events and
 * erasures of an authenticated user in the user id's partition) and `append`. The consumer side is a consumer
 * group: `read` new entries, `reclaim` what a dead consumer left pending, `ack` after commit
 * (acknowledge and delete in one step). Nothing unread or unacknowledged is ever trimmed.
 */
import type { DeviceSource } from './session-store.js';

/** A page view as queued: the client's event plus what the server knew when it accepted it. */
export interface PageviewRecord {
  kind: 'pageview';
  eventId: string;
  /** Null for an authenticated user's event (no device work). */
  deviceId: string | null;
  userId: string | null;
  sessionId: string | null;
  source: DeviceSource | null;
  visitorHash: string | null;
  userAgent: string | null;
  url: string;
  referrer: string | null;
  clientTs: number | null;
  /** Server time, Unix ms. */
  serverTs: number;
}

/** An identity link: `deviceId` belongs to `userId` from `ts` on. */
export interface LinkRecord {
  kind: 'link';
  deviceId: string;
  userId: string;
  ts: number;
  /** The live session the link ended, if any. */
  sessionId: string | null;
}

/** Header id `deviceId` was sent together with cookie id `aliasId`. */
export interface AliasRecord {
  kind: 'alias';
  deviceId: string;
  aliasId: string;
  ts: number;
}

/** The device was erased: the persister deletes everything it holds for it. */
export interface EraseRecord {
  kind: 'erase';
  deviceId: string;
  ts: number;
}

/**
 * The user was erased: the persister deletes the user's links, the sessions and page views converted
 * to the user and the user's authenticated page views. Queued in the user id's partition and in the
 * partition of every device the user shares with another user, behind what is already queued there.
 */
export interface EraseUserRecord {
  kind: 'erase-user';
  userId: string;
  ts: number;
}

export type QueueRecord = PageviewRecord | LinkRecord | AliasRecord | EraseRecord | EraseUserRecord;

/** One queued record and where it is. */
export interface QueueEntry {
  partition: number;
  /** Position in the partition (Redis stream id, or the memory queue's sequence). */
  id: string;
  record: QueueRecord;
}

export interface EventQueue {
  /** Number of partitions (`QUEUE_PARTITIONS`). */
  readonly partitions: number;
  /** Appends records to the partition of `partitionKey`; resolves once they are on the queue. */
  append(partitionKey: string, records: QueueRecord[]): Promise<void>;
  /** Up to `count` entries of `partition` never delivered to any consumer of the group. */
  read(partition: number, consumer: string, count: number): Promise<QueueEntry[]>;
  /** Entries of `partition` delivered but unacknowledged for at least `minIdleMs`, now owned by `consumer`. */
  reclaim(partition: number, consumer: string, minIdleMs: number, count: number): Promise<QueueEntry[]>;
  /** Acknowledges and deletes entries, in one atomic step per partition. */
  ack(partition: number, ids: string[]): Promise<void>;
  /** Entries in the partition not yet acknowledged (unread plus pending). */
  depth(partition: number): Promise<number>;
  /**
   * Optional: when the partition's oldest unacknowledged entry (read or not) was queued, Unix ms, or
   * null when it is empty. The persister reports its lag from it.
   */
  oldest?(partition: number): Promise<number | null>;
  /**
   * Optional: removes `consumer` from the partition's consumer group if it holds no pending entry
   * (a consumer with pending entries is kept, so they stay reclaimable). Resolves with whether it was
   * removed. A persister calls it on a clean stop, so consumer names of past processes do not pile up.
   */
  removeConsumer?(partition: number, consumer: string): Promise<boolean>;
}
