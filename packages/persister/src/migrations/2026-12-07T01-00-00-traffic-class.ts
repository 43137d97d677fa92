/**
 * Traffic classes (docs/protocol.md, Bots and automation): page views and sessions keep the class the
 * collector gave them (`human`, `bot`, `automation`, `fleet`) and why; sessions keep a keyed hash of
 * their network prefix for the fleet job; the roll-ups are kept per class, so a read that counts people
 * only stays exact. Rows written before this migration are `human` (nothing classified them).
 * Frozen once merged. Never imports app code (kysely, site/docs/migrations.mdx).
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table page_views
    add column traffic_class text not null default 'human',
    add column traffic_reason text`.execute(db);
  await sql`alter table sessions
    add column traffic_class text not null default 'human',
    add column traffic_reason text,
    add column network_hash text`.execute(db);
  await sql`alter table session_rollups add column traffic_class text not null default 'human'`.execute(db);
  // The class sits after the metric: every read is (metric, class, hour range).
  await sql`alter table rollup_hourly add column traffic_class text not null default 'human'`.execute(db);
  await sql`alter table rollup_hourly drop constraint rollup_hourly_pk`.execute(db);
  await sql`alter table rollup_hourly
    add constraint rollup_hourly_pk primary key (metric, traffic_class, hour, key, writer)`.execute(db);
  // The fleet job: fresh sessions of one network in a window, and the panel's non-human sessions.
  await sql`create index sessions_network_first_seen on sessions (network_hash, first_seen)
    where network_hash is not null`.execute(db);
  await sql`create index sessions_non_human on sessions (first_seen)
    where traffic_class <> 'human'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists sessions_non_human`.execute(db);
  await sql`drop index if exists sessions_network_first_seen`.execute(db);
  // Folding the classes back into one row per (metric, hour, key, writer) before the old key returns.
  await sql`create temporary table rollup_fold on commit drop as
    select metric, hour, key, writer, sum(n) as n from rollup_hourly group by 1, 2, 3, 4`.execute(db);
  await sql`delete from rollup_hourly`.execute(db);
  await sql`alter table rollup_hourly drop constraint rollup_hourly_pk`.execute(db);
  await sql`alter table rollup_hourly drop column traffic_class`.execute(db);
  await sql`insert into rollup_hourly (metric, hour, key, writer, n)
    select metric, hour, key, writer, n from rollup_fold`.execute(db);
  await sql`alter table rollup_hourly add constraint rollup_hourly_pk primary key (metric, hour, key, writer)`.execute(
    db,
  );
  await sql`alter table session_rollups drop column traffic_class`.execute(db);
  await sql`alter table sessions drop column traffic_class, drop column traffic_reason, drop column network_hash`.execute(
    db,
  );
  await sql`alter table page_views drop column traffic_class, drop column traffic_reason`.execute(db);
}
