/**
 * Bounded roll-ups: a past hour with more distinct pages (or referrer origins, entry pages,
 * entry referrers) than the persister's `rollupKeysPerHour` keeps the most viewed ones by name and the
 * rest in one `(other)` row (`rollup-folding.ts`). `rollup_kept` lists the names an hour keeps, with a
 * row for `(other)` marking the hour folded; `rollup_state.folded_before` is the end of the hours the
 * folding job has seen. Frozen once merged. Never imports app code.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rollup_kept')
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('traffic_class', 'text', (c) => c.notNull())
    .addColumn('hour', 'timestamptz', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollup_kept_pk', ['metric', 'traffic_class', 'hour', 'key'])
    .execute();
  // Retention drops whole hours.
  await db.schema.createIndex('rollup_kept_hour').on('rollup_kept').column('hour').execute();
  await sql`alter table rollup_state add column folded_before timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table rollup_state drop column if exists folded_before`.execute(db);
  await db.schema.dropTable('rollup_kept').ifExists().execute();
}
