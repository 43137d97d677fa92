/**
 * Edges replace aliases (docs/protocol.md, Edges): `device_edges` holds every edge as observed
 * (`cookie`: a non-fresh client id met a different cookie; `yield`: a fresh id yielded to the cookie;
 * `join`: a fingerprint join), `fingerprint_revocations` the revocations of joins, and
 * `edge_withdrawals` withdrawn consent. Revocations and withdrawals are compared by time, so either
 * may arrive before the edge it concerns (they travel through other partitions). The aliases of round
 * one become cookie edges. Frozen once merged. Never imports app code (kysely, site/docs/migrations.mdx).
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('device_edges')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('other_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('cookie', 'yield', 'join')`))
    .addColumn('first_seen', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_edges_pk', ['device_id', 'other_id', 'kind'])
    .execute();
  // Edges are followed both ways: by the other id too.
  await db.schema.createIndex('device_edges_other').on('device_edges').column('other_id').execute();
  await sql`
    insert into device_edges (device_id, other_id, kind, first_seen)
    select device_id, alias_id, 'cookie', first_seen from device_aliases
    on conflict do nothing
  `.execute(db);
  await db.schema.dropTable('device_aliases').execute();

  // Every fingerprint join to `device_id` made at or before `revoked_until` is revoked (twins).
  await db.schema
    .createTable('fingerprint_revocations')
    .addColumn('device_id', 'text', (c) => c.primaryKey())
    .addColumn('revoked_until', 'timestamptz', (c) => c.notNull())
    .execute();

  // Consent withdrawn: every edge naming `device_id` made at or before `withdrawn_at` is gone, and one
  // arriving later is dropped.
  await db.schema
    .createTable('edge_withdrawals')
    .addColumn('device_id', 'text', (c) => c.primaryKey())
    .addColumn('withdrawn_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('edge_withdrawals').ifExists().execute();
  await db.schema.dropTable('fingerprint_revocations').ifExists().execute();
  await db.schema
    .createTable('device_aliases')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('alias_id', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_aliases_pk', ['device_id', 'alias_id'])
    .execute();
  await db.schema.createIndex('device_aliases_alias').on('device_aliases').column('alias_id').execute();
  await sql`
    insert into device_aliases (device_id, alias_id, first_seen)
    select device_id, other_id, min(first_seen) from device_edges where kind <> 'join'
    group by device_id, other_id
  `.execute(db);
  await db.schema.dropTable('device_edges').execute();
}
