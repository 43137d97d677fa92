/**
 * Device tombstones for erasure, and the dead-letter table of the persister. Frozen once merged.
 * Never imports app code (kysely, site/docs/migrations.mdx).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // An erased device id, for 30 days: page views, links and aliases of the device that a persister
  // writes after the erasure (reclaimed from a dead consumer, or queued in another partition) are
  // dropped, not written back.
  await db.schema
    .createTable('erased_devices')
    .addColumn('device_id', 'text', (c) => c.primaryKey())
    .addColumn('erased_at', 'timestamptz', (c) => c.notNull())
    .execute();

  // A queue entry Postgres refused on its own (a data error: a NUL in a text, a malformed UUID): kept
  // for inspection, with the raw record as JSON text (jsonb refuses the very NULs that may be the cause).
  await db.schema
    .createTable('dead_letters')
    .addColumn('partition', 'integer', (c) => c.notNull())
    .addColumn('entry_id', 'text', (c) => c.notNull())
    .addColumn('error', 'text', (c) => c.notNull())
    .addColumn('record', 'text', (c) => c.notNull())
    .addColumn('failed_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('dead_letters_pk', ['partition', 'entry_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dead_letters').ifExists().execute();
  await db.schema.dropTable('erased_devices').ifExists().execute();
}
