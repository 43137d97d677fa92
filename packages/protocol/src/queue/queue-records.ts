/**
 * The records of the durable event queue (docs/protocol.md, Persistence). The store's scripts write
 * them (page views, links, edges, erasures of a device land in the device's partition; events and
 * erasures of an authenticated user in the user id's partition); a persister reads them through
 * `QueueConsumer` (`queue-consumer.ts`).
 */

import type { TrafficClass } from '../traffic-class.js';

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
  /**
   * What the collector classified the request as (docs/protocol.md, Bots and automation); absent in
   * records queued before classification existed, or with the filter off: `human`.
   */
  trafficClass?: TrafficClass;
  /** Why the class is what it is (`ua:curl/`, `sdk:webdriver`, `allowlist:…`); absent for a plain human. */
  trafficReason?: string | null;
  /** Keyed hash of the client's /24 or /64 under the day's salt (the fleet job groups by it). */
  networkHash?: string | null;
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

/**
 * How two ids of one browser were seen together (docs/protocol.md, Edges):
 * - `cookie`: a non-fresh client id `deviceId` met a different valid cookie `otherId` and won;
 * - `yield`: a fresh client id `otherId` yielded to the valid cookie `deviceId`;
 * - `join`: a fingerprint join: the minted id `deviceId` is inferred to be the browser of `otherId`
 *   (revocable: see {@link UnjoinRecord}).
 * Cookie and yield edges are queued in `deviceId`'s partition (the id that answered); a join in the
 * minted id's partition.
 */
export interface EdgeRecord {
  kind: 'edge';
  edge: EdgeKind;
  deviceId: string;
  otherId: string;
  ts: number;
}

/** The kinds of {@link EdgeRecord}. */
export type EdgeKind = 'cookie' | 'yield' | 'join';

/**
 * Every fingerprint join to `deviceId` made at or before `ts` is revoked (the joined-to id was seen on
 * a request of its own, or two claimants were live at once). Queued in `deviceId`'s partition, so it
 * may reach Postgres before the join it revokes (queued in the claimant's partition).
 */
export interface UnjoinRecord {
  kind: 'unjoin';
  deviceId: string;
  ts: number;
}

/**
 * Consent withdrawn (`DELETE /v1/device/recovery`): every edge naming `deviceId`, in both directions,
 * made at or before `ts`, is deleted, and one arriving later is dropped.
 */
export interface ForgetEdgesRecord {
  kind: 'forget-edges';
  deviceId: string;
  ts: number;
}

/**
 * A replacement (docs/protocol.md, Replacement marker): after `reset()`, `forget()` or a re-grant the
 * browser's new id `deviceId` took the `device_fp` cookie over from `otherId`, the previous person's
 * id. The opposite of an edge: the two ids are two people on one browser, and no report, erasure or
 * conversion treats them as one. Queued in `deviceId`'s partition.
 */
export interface BoundaryRecord {
  kind: 'boundary';
  deviceId: string;
  otherId: string;
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

export type QueueRecord =
  | PageviewRecord
  | LinkRecord
  | EdgeRecord
  | BoundaryRecord
  | UnjoinRecord
  | ForgetEdgesRecord
  | EraseRecord
  | EraseUserRecord;

/** One queued record and where it is. */
export interface QueueEntry {
  partition: number;
  /** Position in the partition (Redis stream id, or the memory queue's sequence). */
  id: string;
  record: QueueRecord;
}
