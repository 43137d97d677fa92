/**
 * The device rows of a chunk: one row per device, its first-seen and last-seen bounds widened by every
 * page view, link and edge of the chunk that names it (an upsert, so a record delivered again changes
 * nothing).
 */
import { sql, type Transaction } from 'kysely';
import type { ChunkRecords } from './chunk-records.js';
import { slices } from './insert-slices.js';
import type { Database } from './schema.js';

const date = (ms: number): Date => new Date(ms);

/** Upserts the devices the chunk's page views, links and edges name, with their seen bounds. */
export async function upsertDevices(
  trx: Transaction<Database>,
  { pageviews, links, edges }: Pick<ChunkRecords, 'pageviews' | 'links' | 'edges'>,
): Promise<void> {
  const devices = new Map<string, { first: number; last: number }>();
  const seeDevice = (id: string | null, ts: number) => {
    if (!id) return;
    const d = devices.get(id);
    if (d) {
      d.first = Math.min(d.first, ts);
      d.last = Math.max(d.last, ts);
    } else devices.set(id, { first: ts, last: ts });
  };
  for (const p of pageviews) seeDevice(p.deviceId, p.serverTs);
  for (const l of links) seeDevice(l.deviceId, l.ts);
  for (const e of edges) seeDevice(e.deviceId, e.ts);
  // Sorted, so concurrent passes lock device rows in one order.
  const deviceRows = [...devices.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([device_id, d]) => ({ device_id, first_seen: date(d.first), last_seen: date(d.last) }));
  for (const rows of slices(deviceRows)) {
    await trx
      .insertInto('devices')
      .values(rows)
      .onConflict((oc) =>
        oc.column('device_id').doUpdateSet({
          first_seen: sql`least(devices.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(devices.last_seen, excluded.last_seen)`,
        }),
      )
      .execute();
  }
}
