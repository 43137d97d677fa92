/**
 * The initial schema. Frozen once merged: change the schema with a new, later-dated migration.
 * Never imports app code (kysely, site/docs/migrations.mdx).
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('devices')
    .addColumn('device_id', 'text', (c) => c.primaryKey())
    .addColumn('first_seen', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('visitor_hash', 'text')
    .addColumn('first_seen', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen', 'timestamptz', (c) => c.notNull())
    .addColumn('page_views', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('user_agent', 'text')
    .addColumn('converted_user_id', 'text')
    .addColumn('converted_at', 'timestamptz')
    .addColumn('link_id', 'uuid')
    .execute();
  // Admin detail and the conversion rule look sessions up by device in time order.
  await db.schema
    .createIndex('sessions_device_first_seen')
    .on('sessions')
    .columns(['device_id', 'first_seen'])
    .execute();
  // User erasure and reports by converted user.
  await db.schema
    .createIndex('sessions_converted_user')
    .on('sessions')
    .column('converted_user_id')
    .where(sql.ref('converted_user_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('sessions_first_seen').on('sessions').column('first_seen').execute();

  await db.schema
    .createTable('page_views')
    .addColumn('event_id', 'uuid', (c) => c.primaryKey())
    .addColumn('device_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('session_id', 'uuid')
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('referrer', 'text')
    .addColumn('client_ts', 'timestamptz')
    .addColumn('server_ts', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('page_views_device').on('page_views').column('device_id').execute();
  await db.schema.createIndex('page_views_session').on('page_views').column('session_id').execute();
  await db.schema.createIndex('page_views_user').on('page_views').column('user_id').execute();

  await db.schema
    .createTable('identity_links')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('linked_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('identity_links_device_linked_at')
    .on('identity_links')
    .columns(['device_id', 'linked_at'])
    .execute();
  await db.schema.createIndex('identity_links_user').on('identity_links').column('user_id').execute();

  await db.schema
    .createTable('device_aliases')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('alias_id', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_aliases_pk', ['device_id', 'alias_id'])
    .execute();
  await db.schema.createIndex('device_aliases_alias').on('device_aliases').column('alias_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['device_aliases', 'identity_links', 'page_views', 'sessions', 'devices']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
