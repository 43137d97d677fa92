/**
 * The erasure steps of a batch (../shared/CONTRACT.md, Erasure): a device's `erase` record, a user's
 * `erase-user` record, and the 30-day user tombstones that keep a user's records still queued in other
 * partitions from being written back.
 */
import type { EraseRecord, EraseUserRecord } from '@devicelink/fastify';
import { TOMBSTONE_SECONDS } from '@devicelink/protocol';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

const date = (ms: number): Date => new Date(ms);

/** Removes everything persisted for the device (aliases in both directions). */
export async function eraseDevice(trx: Transaction<Database>, record: EraseRecord): Promise<void> {
  const id = record.deviceId;
  await trx.deleteFrom('page_views').where('device_id', '=', id).execute();
  await trx.deleteFrom('sessions').where('device_id', '=', id).execute();
  await trx.deleteFrom('identity_links').where('device_id', '=', id).execute();
  await trx
    .deleteFrom('device_aliases')
    .where((eb) => eb.or([eb('device_id', '=', id), eb('alias_id', '=', id)]))
    .execute();
  await trx.deleteFrom('devices').where('device_id', '=', id).execute();
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
export async function eraseUser(trx: Transaction<Database>, record: EraseUserRecord): Promise<void> {
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
  await trx
    .deleteFrom('page_views')
    .where('session_id', 'in', (eb) =>
      eb.selectFrom('sessions').select('id').where('converted_user_id', '=', id),
    )
    .execute();
  await trx.deleteFrom('page_views').where('user_id', '=', id).execute();
  await trx.deleteFrom('sessions').where('converted_user_id', '=', id).execute();
  await trx.deleteFrom('identity_links').where('user_id', '=', id).execute();
}
