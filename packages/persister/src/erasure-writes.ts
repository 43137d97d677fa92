/**
 * The erasure steps of a batch (docs/protocol.md, Erasure): a device's `erase` record, a user's
 * `erase-user` record, and the 30-day user and device tombstones that keep records still queued (in
 * other partitions, or left pending by a dead consumer and reclaimed after the erasure was written)
 * from being written back.
 */
import type { EraseRecord, EraseUserRecord } from '@devicelink/protocol';
import { TOMBSTONE_SECONDS } from '@devicelink/protocol';
import { sql, type Transaction } from 'kysely';
import { eraseBoundaries } from './boundary-writes.js';
import { eraseEdges } from './edge-writes.js';
import type { RollupWriter } from './rollup-writes.js';
import type { Database } from './schema.js';

const date = (ms: number): Date => new Date(ms);

/** Ids per tombstone lookup, well below Postgres's 65,535 parameters. */
const IDS_PER_SELECT = 10_000;

/**
 * Removes everything persisted for the device (edges in both directions) and records the tombstone:
 * a page view of the device reclaimed later from a dead consumer's pending list is dropped.
 */
export async function eraseDevice(
  trx: Transaction<Database>,
  record: EraseRecord,
  rollups: RollupWriter,
): Promise<void> {
  const id = record.deviceId;
  await trx
    .insertInto('erased_devices')
    .values({ device_id: id, erased_at: date(record.ts) })
    .onConflict((oc) =>
      oc
        .column('device_id')
        .doUpdateSet({ erased_at: sql`greatest(erased_devices.erased_at, excluded.erased_at)` }),
    )
    .execute();
  // Tombstones older than 30 days have done their work.
  await trx
    .deleteFrom('erased_devices')
    .where('erased_at', '<=', sql<Date>`now() - make_interval(secs => ${TOMBSTONE_SECONDS})`)
    .execute();
  await rollups.deletePageViews(sql`device_id = ${id}`);
  await trx.deleteFrom('sessions').where('device_id', '=', id).execute();
  await rollups.reconcileDevices([id]);
  await trx.deleteFrom('identity_links').where('device_id', '=', id).execute();
  await eraseEdges(trx, id);
  await eraseBoundaries(trx, id);
  await trx.deleteFrom('devices').where('device_id', '=', id).execute();
}

/** The ids among `deviceIds` erased in the last 30 days. */
export async function erasedDevices(
  trx: Transaction<Database>,
  deviceIds: readonly string[],
): Promise<Set<string>> {
  const out = new Set<string>();
  // In slices: a chunk may name more devices than one statement takes parameters.
  for (let i = 0; i < deviceIds.length; i += IDS_PER_SELECT) {
    const rows = await trx
      .selectFrom('erased_devices')
      .select('device_id')
      .where('device_id', 'in', deviceIds.slice(i, i + IDS_PER_SELECT))
      .where('erased_at', '>', sql<Date>`now() - make_interval(secs => ${TOMBSTONE_SECONDS})`)
      .execute();
    for (const r of rows) out.add(r.device_id);
  }
  return out;
}

/** The ids among `userIds` erased in the last 30 days. */
export async function erasedUsers(
  trx: Transaction<Database>,
  userIds: readonly string[],
): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await trx
    .selectFrom('erased_users')
    .select('user_id')
    .where('user_id', 'in', userIds)
    .where('erased_at', '>', sql<Date>`now() - make_interval(secs => ${TOMBSTONE_SECONDS})`)
    .execute();
  return new Set(rows.map((r) => r.user_id));
}

/**
 * Removes what is persisted for the user: links, the sessions converted to the user and their page
 * views, and the user's authenticated page views; records the tombstone. Devices are not removed here:
 * the ones no other user is linked to get their own `erase` records (see the admin user route).
 */
export async function eraseUser(
  trx: Transaction<Database>,
  record: EraseUserRecord,
  rollups: RollupWriter,
): Promise<void> {
  const id = record.userId;
  await trx
    .insertInto('erased_users')
    .values({ user_id: id, erased_at: date(record.ts) })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ erased_at: sql`greatest(erased_users.erased_at, excluded.erased_at)` }),
    )
    .execute();
  // Tombstones older than 30 days have done their work.
  await trx
    .deleteFrom('erased_users')
    .where('erased_at', '<=', sql<Date>`now() - make_interval(secs => ${TOMBSTONE_SECONDS})`)
    .execute();
  await rollups.deletePageViews(
    sql`session_id in (select s.id from sessions as s where s.converted_user_id = ${id})`,
  );
  await rollups.deletePageViews(sql`user_id = ${id}`);
  await trx.deleteFrom('sessions').where('converted_user_id', '=', id).execute();
  await rollups.reconcileUser(id);
  await trx.deleteFrom('identity_links').where('user_id', '=', id).execute();
}

/**
 * An erased user's link still queued is dropped, not written back. If no other user is linked to its
 * device, the device is the user's: it is erased too (as the admin route does for the devices it finds
 * in Postgres), so its anonymous history does not outlive the user. `candidates` are the chunk's
 * devices linked only to erased users (`orphanCandidates`), sorted; answers the ids erased.
 */
export async function eraseOrphanedDevices(
  trx: Transaction<Database>,
  candidates: ReadonlyArray<readonly [deviceId: string, userId: string]>,
  rollups: RollupWriter,
): Promise<string[]> {
  const erased: string[] = [];
  for (const [deviceId, userId] of candidates) {
    const other = await trx
      .selectFrom('identity_links')
      .select('id')
      .where('device_id', '=', deviceId)
      .where('user_id', '<>', userId)
      .limit(1)
      .executeTakeFirst();
    if (other) continue;
    await eraseDevice(trx, { kind: 'erase', deviceId, ts: Date.now() }, rollups);
    erased.push(deviceId);
  }
  return erased;
}
