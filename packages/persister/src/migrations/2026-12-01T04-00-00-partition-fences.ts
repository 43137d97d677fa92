/**
 * The fence of each queue partition: the epoch of its current owner (apps/collector/README.md,
 * Persisters and partition leases).
 * A persister that takes a partition's lease advances the epoch; every pass transaction locks the
 * fences of its partitions and commits only if they still carry its epochs, so a persister that lost a
 * partition (frozen past its lease, then resumed) commits nothing of it. Frozen once merged. Never
 * imports app code (kysely, site/docs/migrations.mdx).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('partition_fences')
    .addColumn('partition', 'integer', (c) => c.primaryKey())
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('taken_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('partition_fences').ifExists().execute();
}
