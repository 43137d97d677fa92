/**
 * The page-view table's layout (apps/collector/README.md, The page-view table): declarative partitions by
 * RANGE of `id_time`, the time embedded in the event id when it is a UUIDv7 (what the SDK and the collector
 * mint), else the epoch.
 *
 * Why that time and not `server_ts`: a unique key of a partitioned table must hold the partition key,
 * and a page view is unique by its subject and event id. The id's own time is a pure function of the
 * id, so a retry of the same event (same id) lands in the same partition with the same key whenever
 * it arrives: after the collector's 10-minute Redis dedup window, after a day in the SDK's retry
 * queue, and from any collector. `server_ts` (or any first-accept time held only in Redis) would differ
 * on such a retry, and the second delivery would become a second row.
 *
 * Partitions:
 * - `page_views_yYYYYmMM`: one a month (UTC), the unit retention drops; created ahead, up to two
 *   months past the current one, by the migration and then by the persister (`ensure…` below);
 * - `page_views_undated`: ids with no time (any other UUID version, a client's choice) and v7 times
 *   before 2000 (a broken client clock): retention deletes from it by `server_ts`;
 * - `page_views_default`: every other time no month holds (a client clock years ahead, a month retention
 *   already dropped). A month created later takes its rows out of it first.
 *
 * Retention ages rows by `server_ts` (when the collector received them), never by this time: a client
 * clock is not to be trusted, so a month is dropped only after the rows received within the limit
 * moved out of it (`dropPageViewMonth`), and every other partition is purged by `server_ts`.
 */
import { uuidV7Time } from '@devicelink/protocol';
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

/** Months created ahead of the current one. */
const MONTHS_AHEAD = 2;

/** Advisory lock (namespace, key) serialising partition DDL between persisters. */
const PARTITION_DDL_LOCK = [72_105, 0] as const;

/** After a failed ensure, the next attempt waits this long (the rows land in the default meanwhile). */
const RETRY_MS = 60_000;

/**
 * The partition time of a page view: the Unix time in its event id when that is a UUIDv7, else the
 * epoch. The migration computes the same for the rows it copies (in SQL, to the millisecond).
 *
 * @example
 * pageViewIdTime('0189a1b2-c3d4-7000-8000-000000000001'); // 2023-07-29T12:49:54.644Z
 */
export function pageViewIdTime(eventId: string): Date {
  return new Date(uuidV7Time(eventId) ?? 0);
}

/** The month partition holding `ms`: its name and bounds (UTC). */
export function monthPartition(ms: number): { name: string; from: Date; to: Date } {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return {
    name: `page_views_y${y}m${String(m + 1).padStart(2, '0')}`,
    from: new Date(Date.UTC(y, m, 1)),
    to: new Date(Date.UTC(y, m + 1, 1)),
  };
}

/** Per database: the month last ensured, or when to try again after a failure. */
const ensured = new WeakMap<Kysely<Database>, { month: string } | { retryAt: number }>();

/**
 * Makes sure the month partitions from the one of `now` to {@link MONTHS_AHEAD} later exist; does
 * the work once a month per database handle (and again a minute after a failure). Each missing month
 * is created as a table of its own, given the rows of the default partition it should hold, then
 * attached: attaching locks the parent only against other DDL, so page-view writes go on.
 */
export async function ensurePageViewPartitions(db: Kysely<Database>, now = Date.now()): Promise<void> {
  const current = monthPartition(now).name;
  const seen = ensured.get(db);
  if (seen && ('month' in seen ? seen.month === current : now < seen.retryAt)) return;
  try {
    for (let ahead = 0; ahead <= MONTHS_AHEAD; ahead++) {
      const d = new Date(now);
      await createMonth(db, monthPartition(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + ahead, 1)));
    }
    ensured.set(db, { month: current });
  } catch (err) {
    ensured.set(db, { retryAt: now + RETRY_MS });
    throw err;
  }
}

async function createMonth(db: Kysely<Database>, month: { name: string; from: Date; to: Date }) {
  await db.transaction().execute(async (trx) => {
    const [ns, key] = PARTITION_DDL_LOCK;
    await sql`select pg_advisory_xact_lock(${sql.lit(ns)}, ${sql.lit(key)})`.execute(trx);
    const { rows } = await sql<{
      found: string | null;
    }>`select to_regclass(${month.name})::text as found`.execute(trx);
    if (rows[0]?.found) return;
    const table = sql.table(month.name);
    await sql`create table ${table} (like page_views including defaults)`.execute(trx);
    // Rows that arrived before their month existed: a default partition holding rows of a new range
    // refuses the partition, so they move first (same transaction: no reader sees them twice or gone).
    await sql`
      with moved as (
        delete from page_views_default where id_time >= ${month.from} and id_time < ${month.to} returning *
      )
      insert into ${table} select * from moved
    `.execute(trx);
    await sql`alter table page_views attach partition ${table} for values from (${sql.lit(
      month.from.toISOString(),
    )}) to (${sql.lit(month.to.toISOString())})`.execute(trx);
  });
}

/** A month partition of `page_views` that exists: its name and bounds (UTC). */
export interface PageViewMonth {
  name: string;
  from: Date;
  to: Date;
}

const MONTH_NAME = /^page_views_y(\d{4})m(\d{2})$/;

/** The month partitions attached to `page_views`, oldest first (retention drops from the front). */
export async function pageViewMonths(db: Kysely<Database>): Promise<PageViewMonth[]> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
    where i.inhparent = 'page_views'::regclass`.execute(db);
  const months: PageViewMonth[] = [];
  for (const { name } of rows) {
    const m = MONTH_NAME.exec(name);
    if (m) months.push(monthPartition(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)));
  }
  return months.sort((a, b) => a.from.getTime() - b.from.getTime());
}

/**
 * Drops the month partition `name` in the transaction `trx`, serialised with {@link ensurePageViewPartitions}
 * (a month being created is never dropped half-way). Its rows received at or after `keepFrom` (server
 * time: a client clock behind made their ids look older) are kept: the month is detached, they are
 * inserted again through the parent (no month holds their time any more, so they land in the default
 * partition), and the month is dropped. Answers false when it is already gone.
 */
export async function dropPageViewMonth(
  trx: Kysely<Database>,
  name: string,
  keepFrom?: Date,
): Promise<boolean> {
  const [ns, key] = PARTITION_DDL_LOCK;
  await sql`select pg_advisory_xact_lock(${sql.lit(ns)}, ${sql.lit(key)})`.execute(trx);
  const { rows } = await sql<{ found: string | null }>`select to_regclass(${name})::text as found`.execute(
    trx,
  );
  if (!rows[0]?.found) return false;
  const table = sql.table(name);
  if (keepFrom) {
    await sql`alter table page_views detach partition ${table}`.execute(trx);
    // By name: an attached table may order its columns differently from the parent.
    const columns = await sql<{ name: string }>`
      select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = 'page_views' order by ordinal_position`.execute(
      trx,
    );
    const list = sql.join(columns.rows.map((c) => sql.ref(c.name)));
    await sql`insert into page_views (${list}) select ${list} from ${table} where server_ts >= ${keepFrom}`.execute(
      trx,
    );
  }
  await sql`drop table ${table}`.execute(trx);
  return true;
}
