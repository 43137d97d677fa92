/**
 * Boundaries (docs/protocol.md, Replacement marker): `device_boundaries` holds each replacement of a
 * browser's id after a reset, forget or re-grant (`device_id` the new id, `other_id` the id it
 * replaced, `replaced_at` the earliest time seen). The conversion rule never converts across one.
 * Frozen once merged. Never imports app code (kysely, site/docs/migrations.mdx).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('device_boundaries')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('other_id', 'text', (c) => c.notNull())
    .addColumn('replaced_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_boundaries_pk', ['device_id', 'other_id'])
    .execute();
  // Looked up both ways (the rule checks each edge's pair in either direction; erasure by either id).
  await db.schema.createIndex('device_boundaries_other').on('device_boundaries').column('other_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('device_boundaries').execute();
}
