/**
 * What the dashboard's identity figures read at size (the dashboard's target: every request under
 * 200 ms at 10,000,000 page views; bench/README.md, Dashboard). Counting `devices` row by row took 45 ms at
 * 200,000 devices, and the devices-per-user histogram read the links' heap. Frozen once merged. Never imports
 * app code.
 *
 * - `device_count`: the number of rows of `devices`, kept by statement triggers on every path that
 *   inserts or deletes one (the persister's upsert counts only the rows it inserted; erasure,
 *   retention), in the same transaction. One row per shard of the backend's pid, so two persisters
 *   almost never update the same row; the figure is the sum.
 * - `identity_links (user_id, device_id)`: the histogram's distinct count becomes an index-only scan.
 *   It serves every lookup by user the old `identity_links_user` served, which goes.
 */
import { type Kysely, sql } from 'kysely';

/** Shards of `device_count`. */
const SHARDS = 16;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table device_count (shard smallint primary key, n bigint not null)`.execute(db);
  for (const [op, rows, sign] of [
    ['insert', 'new', 1],
    ['delete', 'old', -1],
  ] as const) {
    await sql
      .raw(`
      create function device_count_${op}() returns trigger language plpgsql as $$
      begin
        insert into device_count (shard, n)
        select pg_backend_pid() % ${SHARDS}, ${sign} * count(*) from ${rows}_rows having count(*) > 0
        on conflict (shard) do update set n = device_count.n + excluded.n;
        return null;
      end $$`)
      .execute(db);
    await sql
      .raw(`
      create trigger devices_counted_${op} after ${op} on devices
      referencing ${rows} table as ${rows}_rows
      for each statement execute function device_count_${op}()`)
      .execute(db);
  }
  // The devices already stored; the lock keeps a persister from adding one between count and trigger.
  await sql`lock table devices in share row exclusive mode`.execute(db);
  await sql`insert into device_count (shard, n) select 0, count(*) from devices`.execute(db);

  await sql`create index identity_links_user_device on identity_links (user_id, device_id)`.execute(db);
  await sql`drop index identity_links_user`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index identity_links_user on identity_links (user_id)`.execute(db);
  await sql`drop index identity_links_user_device`.execute(db);
  for (const op of ['insert', 'delete']) {
    await sql.raw(`drop trigger devices_counted_${op} on devices`).execute(db);
    await sql.raw(`drop function device_count_${op}()`).execute(db);
  }
  await sql`drop table device_count`.execute(db);
}
