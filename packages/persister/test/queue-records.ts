/** Queue records and entries built by hand, as a persister pass hands them to `writePass`. */
import {
  type LinkRecord,
  type PageviewRecord,
  type QueueEntry,
  type QueueRecord,
  uuidv7,
} from '@devicelink/protocol';

/** A fresh device id. */
export const device = (): string => `dev-${uuidv7().replace(/-/g, '')}`;

/**
 * A page view record with a fresh event id minted at `serverTs`, as the SDK mints it when the page view
 * happens (URL `/p` unless `options` say otherwise).
 */
export function pageview(
  deviceId: string | null,
  sessionId: string | null,
  serverTs: number,
  userId: string | null = null,
  options: { url?: string; referrer?: string | null; eventId?: string } = {},
): PageviewRecord {
  return {
    kind: 'pageview',
    eventId: options.eventId ?? uuidv7(serverTs),
    deviceId,
    userId,
    sessionId,
    source: deviceId ? 'header' : null,
    visitorHash: null,
    userAgent: null,
    url: options.url ?? '/p',
    referrer: options.referrer ?? null,
    clientTs: null,
    serverTs,
  };
}

/** A link record that ended no live session. */
export const link = (deviceId: string, userId: string, ts: number): LinkRecord => ({
  kind: 'link',
  deviceId,
  userId,
  ts,
  sessionId: null,
});

let seq = 0;
/** Queue entries of one partition, with increasing entry ids. */
export function entries(
  partition: number,
  ...records: QueueRecord[]
): { partition: number; entries: QueueEntry[] } {
  return { partition, entries: records.map((record) => ({ partition, id: `0-${++seq}`, record })) };
}
