/**
 * Boundaries (docs/protocol.md, Replacement marker): a `boundary` record says that the browser's new
 * id took the cookie over from the previous person's id after a reset, forget or re-grant. Stored in
 * `device_boundaries`, read only by the conversion rule, which never converts across one (even over a
 * cookie or yield edge between the two ids); no report follows them.
 */
import type { BoundaryRecord } from '@devicelink/protocol';
import { sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Inserts boundaries (the earliest time of a pair wins) and takes back any conversion already made
 * across one (a session of either id converted by a link of the other, over an edge written first):
 * the conversion rule then converts those sessions by what is left, so the outcome does not depend on
 * which record reached Postgres first.
 */
export async function writeBoundaries(
  trx: Transaction<Database>,
  records: readonly BoundaryRecord[],
): Promise<void> {
  const unique = new Map<string, BoundaryRecord>();
  for (const r of records) {
    if (r.deviceId === r.otherId) continue;
    const key = `${r.deviceId}\u0000${r.otherId}`;
    const prev = unique.get(key);
    if (!prev || r.ts < prev.ts) unique.set(key, r);
  }
  const rows = [...unique.values()]
    .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0))
    .map((r) => ({ device_id: r.deviceId, other_id: r.otherId, replaced_at: new Date(r.ts) }));
  if (rows.length === 0) return;
  // Boundaries are rare (one per reset): one statement each keeps this simple.
  for (const row of rows) {
    await trx
      .insertInto('device_boundaries')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['device_id', 'other_id']).doUpdateSet({
          replaced_at: sql`least(device_boundaries.replaced_at, excluded.replaced_at)`,
        }),
      )
      .execute();
    await sql`
      update sessions as s
      set converted_user_id = null, converted_at = null, link_id = null
      from identity_links as il
      where il.id = s.link_id
        and ((s.device_id = ${row.device_id} and il.device_id = ${row.other_id})
          or (s.device_id = ${row.other_id} and il.device_id = ${row.device_id}))
    `.execute(trx);
  }
}

/** Erasure: every boundary naming the device, either way. */
export async function eraseBoundaries(trx: Transaction<Database>, deviceId: string): Promise<void> {
  await trx
    .deleteFrom('device_boundaries')
    .where((eb) => eb.or([eb('device_id', '=', deviceId), eb('other_id', '=', deviceId)]))
    .execute();
}
