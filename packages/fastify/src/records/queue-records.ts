/**
 * The records of the durable event queue (docs/protocol.md, Persistence). The store's scripts write
 * them (page views, links, aliases, erasures of a device land in the device's partition; events and
 * erasures of an authenticated user in the user id's partition); a persister reads them through
 * `QueueConsumer` (`store/queue-consumer.ts`).
 */

/** Which tier of the lookup produced the device id. */
export type DeviceSource = 'header' | 'cookie' | 'server';

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
