/**
 * The final page-view table (apps/collector/README.md, The page-view table): a page view is unique by its
 * subject (the device, or the user for an authenticated user's event) and its event id, so another subject's
 * event with the same id can never remove or replace a row; the table is partitioned by month of `id_time`,
 * the time in the event id (UUIDv7; the epoch for other versions), so retention drops whole months and a
 * retry of an event, however late, carries the same key (see src/page-view-partitions.ts for the layout).
 * Frozen once merged. Never imports app code (kysely, site/docs/migrations.mdx).
 *
 * Runs while collectors keep accepting: page views wait on the queue meanwhile. The copy holds an
 * EXCLUSIVE lock on the old table (writers wait, readers go on) and swaps the tables at commit, in the
 * migration's transaction. Measured on Postgres 15 (2 shared cores): see bench/README.md (migration).
 * A persister of an older version still running afterwards fails its writes (its ON CONFLICT names a
 * key that is gone, SQLSTATE 42P10, not a data error): it retries without acknowledging, and what it
 * holds is reclaimed by an upgraded persister.
 */
import { type Kysely, sql } from 'kysely';

/** The epoch time of a v7 event id (first 48 bits, ms), else the epoch itself, exact to the ms. */
const ID_TIME = sql`case when substr(event_id::text, 15, 1) = '7'
  then timestamptz 'epoch' + ('x' || substr(replace(event_id::text, '-', ''), 1, 12))::bit(48)::bigint * interval '1 millisecond'
  else timestamptz 'epoch' end`;

const UNDATED_BEFORE = Date.UTC(2000, 0, 1);

const monthStart = (y: number, m: number) => new Date(Date.UTC(y, m, 1));

/** The indexes reports read page views through, the same on both sides of the migration. */
async function createReadIndexes(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('page_views_session_server_ts')
    .on('page_views')
    .columns(['session_id', 'server_ts'])
    .execute();
  await db.schema.createIndex('page_views_user').on('page_views').column('user_id').execute();
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`lock table page_views in exclusive mode`.execute(db);
  await sql`
    create table page_views_next (
      event_id uuid not null,
      device_id text,
      user_id text,
      session_id uuid,
      url text not null,
      referrer text,
      client_ts timestamptz,
      server_ts timestamptz not null,
      id_time timestamptz not null
    ) partition by range (id_time)
  `.execute(db);
  await sql`create table page_views_undated partition of page_views_next
    for values from (minvalue) to (${sql.lit(new Date(UNDATED_BEFORE).toISOString())})`.execute(db);
  await sql`create table page_views_default partition of page_views_next default`.execute(db);

  // One partition a month from the month of the oldest page view (server time: the ids' times may be
  // any a client clock made) to two months ahead; ids outside that land in the default.
  const { rows } = await sql<{ first: Date | null }>`select min(server_ts) as first from page_views`.execute(
    db,
  );
  const now = new Date();
  const first = new Date(Math.max(rows[0]?.first?.getTime() ?? now.getTime(), UNDATED_BEFORE));
  const last = monthStart(now.getUTCFullYear(), now.getUTCMonth() + 2);
  for (let m = monthStart(first.getUTCFullYear(), first.getUTCMonth()); m <= last; ) {
    const next = monthStart(m.getUTCFullYear(), m.getUTCMonth() + 1);
    const name = `page_views_y${m.getUTCFullYear()}m${String(m.getUTCMonth() + 1).padStart(2, '0')}`;
    await sql`create table ${sql.table(name)} partition of page_views_next
      for values from (${sql.lit(m.toISOString())}) to (${sql.lit(next.toISOString())})`.execute(db);
    m = next;
  }

  // Indexes after the copy: one bulk build per partition instead of an insert into each per row.
  await sql`
    insert into page_views_next
      (event_id, device_id, user_id, session_id, url, referrer, client_ts, server_ts, id_time)
    select event_id, device_id, user_id, session_id, url, referrer, client_ts, server_ts, ${ID_TIME}
    from page_views
  `.execute(db);
  await sql`drop table page_views`.execute(db);
  await sql`alter table page_views_next rename to page_views`.execute(db);
  // The key: a device's page views have a device id and no user id, a user's the reverse; nulls are
  // equal here so that each subject's (subject, event id) pair is one row. Its leading device_id
  // serves the lookups by device (admin detail, erasure), which needed an index of their own before.
  await sql`alter table page_views add constraint page_views_subject_event
    unique nulls not distinct (device_id, user_id, event_id, id_time)`.execute(db);
  await createReadIndexes(db);
  await sql`analyze page_views`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Back to one row per event id: of several subjects' rows with one id, the earliest is kept.
  await sql`lock table page_views in exclusive mode`.execute(db);
  await db.schema
    .createTable('page_views_prev')
    .addColumn('event_id', 'uuid', (c) => c.primaryKey())
    .addColumn('device_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('session_id', 'uuid')
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('referrer', 'text')
    .addColumn('client_ts', 'timestamptz')
    .addColumn('server_ts', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`
    insert into page_views_prev
    select distinct on (event_id) event_id, device_id, user_id, session_id, url, referrer, client_ts, server_ts
    from page_views order by event_id, server_ts
  `.execute(db);
  await sql`drop table page_views`.execute(db);
  await sql`alter table page_views_prev rename to page_views`.execute(db);
  await sql`alter index page_views_prev_pkey rename to page_views_pkey`.execute(db);
  await db.schema.createIndex('page_views_device').on('page_views').column('device_id').execute();
  await createReadIndexes(db);
}
