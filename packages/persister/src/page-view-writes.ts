/**
 * The page views of a chunk: inserted once by their key (subject and event id), counted into the
 * roll-ups and their sessions from the rows the insert returned, so a page view delivered again adds
 * nothing anywhere.
 */
import type { PageviewRecord } from '@devicelink/protocol';
import type { Transaction } from 'kysely';
import { slices } from './insert-slices.js';
import { pageViewIdTime } from './page-view-partitions.js';
import type { RollupWriter } from './rollup-writes.js';
import type { Database } from './schema.js';
import { trafficClassOf, trafficReasonOf, writeSessions } from './session-writes.js';

const date = (ms: number): Date => new Date(ms);

/**
 * A page view's key as Postgres hands it back: a lone surrogate (ill-formed UTF-16) reaches Postgres as
 * U+FFFD through UTF-8, so the key is made of the well-formed form on both sides of the lookup.
 */
const pageviewKey = (deviceId: string | null, userId: string | null, eventId: string): string =>
  `${deviceId ?? ''}\u0000${userId ?? ''}\u0000${eventId}`.toWellFormed();

/** What {@link writePageviews} did. */
export interface PageviewsWritten {
  /** Page views inserted (not there before). */
  inserted: number;
  /** Devices whose sessions the inserted page views wrote: the conversion rule runs for them. */
  sessionDevices: string[];
}

/** Inserts the page views not yet stored, then counts those into the roll-ups and their sessions. */
export async function writePageviews(
  trx: Transaction<Database>,
  pageviews: readonly PageviewRecord[],
  rollups: RollupWriter,
): Promise<PageviewsWritten> {
  const inserted = await insertPageviews(trx, pageviews);
  // Counted from the rows the insert returned, never re-read by event id: another subject's row may
  // carry the same id (the key is subject + id), and it is not this batch's to count.
  await rollups.pageViewsInserted(
    inserted.map((p) => ({
      serverTs: date(p.serverTs),
      userId: p.userId,
      url: p.url,
      referrer: p.referrer,
      trafficClass: trafficClassOf(p),
    })),
  );
  // Sessions count only the rows this batch inserted: a redelivered page view adds nothing.
  const sessionDevices = await writeSessions(trx, inserted, rollups);
  return { inserted: inserted.length, sessionDevices };
}

/** Inserts each page view once (the first of the chunk with its key); answers the ones inserted. */
async function insertPageviews(
  trx: Transaction<Database>,
  pageviews: readonly PageviewRecord[],
): Promise<PageviewRecord[]> {
  const byKey = new Map<string, PageviewRecord>();
  for (const p of pageviews) {
    const key = pageviewKey(p.deviceId, p.userId, p.eventId);
    if (!byKey.has(key)) byKey.set(key, p);
  }
  const inserted: PageviewRecord[] = [];
  for (const rows of slices([...byKey.values()])) {
    const done = await trx
      .insertInto('page_views')
      .values(
        rows.map((p) => ({
          event_id: p.eventId,
          device_id: p.deviceId,
          user_id: p.userId,
          session_id: p.sessionId,
          url: p.url,
          referrer: p.referrer,
          client_ts: p.clientTs === null ? null : date(p.clientTs),
          server_ts: date(p.serverTs),
          id_time: pageViewIdTime(p.eventId),
          traffic_class: trafficClassOf(p),
          traffic_reason: trafficReasonOf(p),
        })),
      )
      // The table's key (subject, event id, id_time): id_time follows from the event id, so a page view
      // delivered again, however late, meets its first row here.
      .onConflict((oc) => oc.columns(['device_id', 'user_id', 'event_id', 'id_time']).doNothing())
      .returning(['device_id', 'user_id', 'event_id'])
      .execute();
    for (const r of done) {
      const record = byKey.get(pageviewKey(r.device_id, r.user_id, r.event_id));
      if (record) inserted.push(record);
    }
  }
  return inserted;
}
