/**
 * Insights (apps/collector/README.md, Dashboard and read API): hourly roll-ups the persister maintains in the
 * transaction of the rows they count, the per-session state they were computed from, the time index of page
 * views (bulk export, retention) and the audit log of exports and erasures. Frozen once merged. Never imports
 * app code.
 *
 * Page views already stored when this runs are counted at the next start by `migrate` (see
 * `rollup-rebuild.ts`): the `rollup_state` row says whether that rebuild is owed.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per (metric, UTC hour, key, writer). `writer` is the queue partition whose advisory lock the
  // writing transaction holds (or a negative id for retention), so two persisters never update one row;
  // readers sum over writers. `n` may be negative in one writer's row (an erasure subtracting what
  // another writer added); sums are exact.
  await db.schema
    .createTable('rollup_hourly')
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('hour', 'timestamptz', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('writer', 'integer', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollup_hourly_pk', ['metric', 'hour', 'key', 'writer'])
    .execute();
  // Retention drops whole hours across metrics.
  await db.schema.createIndex('rollup_hourly_hour').on('rollup_hourly').column('hour').execute();

  // What the roll-ups currently count for each session: a session changed since (new page views, an
  // earlier page view arriving late, a conversion, an erasure) is recounted against this row.
  await db.schema
    .createTable('session_rollups')
    .addColumn('session_id', 'uuid', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('converted_user_id', 'text')
    .addColumn('first_seen', 'timestamptz', (c) => c.notNull())
    .addColumn('converted_at', 'timestamptz')
    .addColumn('page_views', 'integer', (c) => c.notNull())
    .addColumn('entry_page', 'text', (c) => c.notNull())
    .addColumn('entry_referrer', 'text', (c) => c.notNull())
    .addColumn('views_before_conversion', 'integer')
    .execute();
  await db.schema.createIndex('session_rollups_device').on('session_rollups').column('device_id').execute();
  await db.schema
    .createIndex('session_rollups_converted_user')
    .on('session_rollups')
    .column('converted_user_id')
    .where(sql.ref('converted_user_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('session_rollups_first_seen')
    .on('session_rollups')
    .column('first_seen')
    .execute();

  // Bulk export pages through page views in (server_ts, event_id) order; retention deletes undated page
  // views by server time.
  await db.schema
    .createIndex('page_views_server_ts_event')
    .on('page_views')
    .columns(['server_ts', 'event_id'])
    .execute();
  // Retention deletes the rows of the boundary month (and of the default partition) by `id_time`: a BRIN
  // index, tiny and cheap to keep, as event ids arrive roughly in their time order.
  await sql`create index page_views_id_time on page_views using brin (id_time)`.execute(db);
  // Identity quality counts the devices that only ever had server-made ids (browsers without the SDK).
  await sql`create index sessions_server_made on sessions (device_id) where source = 'server'`.execute(db);
  await db.schema.createIndex('identity_links_linked_at').on('identity_links').column('linked_at').execute();
  await db.schema.createIndex('devices_last_seen').on('devices').column('last_seen').execute();
  await db.schema.createIndex('dead_letters_failed_at').on('dead_letters').column('failed_at').execute();

  // Whether the page views stored before this migration still have to be counted.
  await db.schema
    .createTable('rollup_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('rebuild_needed', 'boolean', (c) => c.notNull())
    .execute();
  await sql`insert into rollup_state (id, rebuild_needed)
    select 1, exists (select 1 from page_views) or exists (select 1 from sessions)`.execute(db);

  // Who exported or erased what, and when (the token kind, never the token).
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_log').ifExists().execute();
  await db.schema.dropTable('rollup_state').ifExists().execute();
  await db.schema.dropIndex('dead_letters_failed_at').ifExists().execute();
  await db.schema.dropIndex('devices_last_seen').ifExists().execute();
  await db.schema.dropIndex('identity_links_linked_at').ifExists().execute();
  await db.schema.dropIndex('sessions_server_made').ifExists().execute();
  await db.schema.dropIndex('page_views_id_time').ifExists().execute();
  await db.schema.dropIndex('page_views_server_ts_event').ifExists().execute();
  await db.schema.dropTable('session_rollups').ifExists().execute();
  await db.schema.dropTable('rollup_hourly').ifExists().execute();
}
