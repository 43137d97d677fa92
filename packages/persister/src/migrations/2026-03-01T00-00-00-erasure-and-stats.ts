/**
 * User tombstones for erasure, and the indexes the admin stats read through. Frozen once merged.
 * Never imports app code (kysely, site/docs/migrations.mdx).
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // An erased user id, for 30 days: links and page views of the user that were still queued when the
  // erasure was processed (in another partition) are dropped, not written back.
  await db.schema
    .createTable('erased_users')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('erased_at', 'timestamptz', (c) => c.notNull())
    .execute();

  // Stats by session start: the window is a range on first_seen, and the conversion columns come from
  // the index itself (index-only scans on millions of sessions). It replaces the plain first_seen index,
  // so the write path keeps the same number of indexes.
  await sql`create index sessions_stats_window on sessions (first_seen) include (converted_user_id, converted_at)`.execute(
    db,
  );
  await db.schema.dropIndex('sessions_first_seen').ifExists().execute();
  // Page views of a converted session before its link: one range per session. Serves lookups by session
  // alone too, so it replaces the session-only index.
  await db.schema
    .createIndex('page_views_session_server_ts')
    .on('page_views')
    .columns(['session_id', 'server_ts'])
    .execute();
  await db.schema.dropIndex('page_views_session').ifExists().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('page_views_session').on('page_views').column('session_id').execute();
  await db.schema.dropIndex('page_views_session_server_ts').ifExists().execute();
  await db.schema.createIndex('sessions_first_seen').on('sessions').column('first_seen').execute();
  await db.schema.dropIndex('sessions_stats_window').ifExists().execute();
  await db.schema.dropTable('erased_users').ifExists().execute();
}
