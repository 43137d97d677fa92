/**
 * Retention (issue #9, `RETENTION_DAYS`): removes what is older than the limit in bounded batches, each
 * its own short transaction, so ingest and the persister go on while it runs. Roll-ups stay exact: the
 * rows a batch deletes are uncounted in the same transaction (writer {@link RETENTION_WRITER}), and the
 * roll-up hours before the cutoff are dropped last.
 *
 * Page views go through {@link purgePageViewsBefore}: page views are partitioned by month (issue #11),
 * so it drops the months wholly past the limit and deletes in batches only within the boundary month.
 */
import { TOMBSTONE_SECONDS } from '@devicelink/protocol';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { dropPageViewMonth, pageViewMonths } from './page-view-partitions.js';
import { RollupWriter } from './rollup-writes.js';
import type { Database } from './schema.js';

/** The writer key of retention's roll-up rows (partitions are >= 0). */
export const RETENTION_WRITER = -1;

/** The advisory lock of the partitions' namespace, taken on {@link RETENTION_WRITER}: one purge at a time. */
const LOCK_NAMESPACE = 72_104;

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Options of {@link purgeExpired}. */
export interface RetentionOptions {
  /** Rows older than this many days go (at least the conversion lookback: see the collector's config). */
  retentionDays: number;
  /** Rows per batch (default 5,000). */
  batchSize?: number;
  /** The current time (tests). */
  now?: Date;
  /** Stops between batches. */
  signal?: AbortSignal;
  /**
   * More tables to purge (identity edges, issue #8), each called until it answers 0, with the cutoff and
   * batch size; runs in its own transaction per batch.
   */
  extraSteps?: readonly RetentionStep[];
}

/** One batch of an extra retention step: deletes at most `batchSize` rows older than `cutoff`, answers how many. */
export type RetentionStep = {
  name: string;
  run(db: Kysely<Database>, cutoff: Date, batchSize: number): Promise<number>;
};

/** How many rows of each kind a purge removed. */
export interface PurgeResult {
  cutoff: string;
  pageViews: number;
  sessions: number;
  rollupRows: number;
  links: number;
  aliases: number;
  devices: number;
  deadLetters: number;
  tombstones: number;
  [step: string]: number | string;
}

/** The cutoff of `retentionDays` at `now`: whole UTC hours, so every roll-up hour is kept or dropped whole. */
export function retentionCutoff(retentionDays: number, now: Date = new Date()): Date {
  return new Date(Math.floor((now.getTime() - retentionDays * DAY) / HOUR) * HOUR);
}

/**
 * Runs one retention pass: removes page views, sessions (and their page views), roll-up hours, links,
 * aliases, devices with nothing left and dead letters older than the cutoff, and tombstones past their
 * 30 days.
 *
 * @example
 * const result = await purgeExpired(db, { retentionDays: 400 });
 */
export async function purgeExpired(db: Kysely<Database>, options: RetentionOptions): Promise<PurgeResult> {
  const batch = options.batchSize ?? 5_000;
  const cutoff = retentionCutoff(options.retentionDays, options.now);
  const result: PurgeResult = {
    cutoff: cutoff.toISOString(),
    pageViews: 0,
    sessions: 0,
    rollupRows: 0,
    links: 0,
    aliases: 0,
    devices: 0,
    deadLetters: 0,
    tombstones: 0,
  };
  const repeat = async (step: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (;;) {
      if (options.signal?.aborted) return total;
      const n = await step();
      total += n;
      if (n < batch) return total;
    }
  };
  const inBatch: RetentionTransaction = (work) =>
    db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_NAMESPACE)}, ${sql.lit(RETENTION_WRITER)})`.execute(
        trx,
      );
      return work(trx, new RollupWriter(trx, RETENTION_WRITER));
    });

  // Sessions that started before the cutoff go whole, with their page views (a few may be newer).
  result.sessions = await repeat(() =>
    inBatch(async (trx, rollups) => {
      const ids = await trx
        .selectFrom('sessions')
        .select('id')
        .where('first_seen', '<', cutoff)
        .orderBy('first_seen')
        .limit(batch)
        .execute();
      if (ids.length === 0) return 0;
      const list = ids.map((r) => r.id);
      result.pageViews += await rollups.deletePageViews(sql`session_id in (${sql.join(list)})`);
      await trx.deleteFrom('sessions').where('id', 'in', list).execute();
      await rollups.recount(list);
      return ids.length;
    }),
  );
  result.pageViews += await purgePageViewsBefore(db, inBatch, cutoff, batch, options.signal);
  result.rollupRows = await repeat(() =>
    inBatch(async (trx) =>
      deleted(
        trx,
        sql`delete from rollup_hourly where (metric, traffic_class, hour, key, writer) in (
          select metric, traffic_class, hour, key, writer from rollup_hourly
          where hour < ${cutoff} limit ${sql.lit(batch)})`,
      ),
    ),
  );
  result.links = await repeat(() =>
    inBatch((trx) =>
      deleted(
        trx,
        sql`delete from identity_links where id in (
          select id from identity_links where linked_at < ${cutoff} limit ${sql.lit(batch)})`,
      ),
    ),
  );
  result.aliases = await repeat(() =>
    inBatch((trx) =>
      deleted(
        trx,
        sql`delete from device_edges where (device_id, other_id, kind) in (
          select device_id, other_id, kind from device_edges where first_seen < ${cutoff} limit ${sql.lit(batch)})`,
      ),
    ),
  );
  // Boundaries only keep conversions from crossing: past the cutoff there is nothing left to convert.
  result.boundaries = await repeat(() =>
    inBatch((trx) =>
      deleted(
        trx,
        sql`delete from device_boundaries where (device_id, other_id) in (
          select device_id, other_id from device_boundaries where replaced_at < ${cutoff} limit ${sql.lit(batch)})`,
      ),
    ),
  );
  for (const step of options.extraSteps ?? []) {
    result[step.name] = await repeat(() => step.run(db, cutoff, batch));
  }
  // Devices last seen before the cutoff with nothing left that names them.
  result.devices = await repeat(() =>
    inBatch((trx) =>
      deleted(
        trx,
        sql`delete from devices where device_id in (
          select d.device_id from devices as d
          where d.last_seen < ${cutoff}
            and not exists (select 1 from sessions as s where s.device_id = d.device_id)
            and not exists (select 1 from page_views as pv where pv.device_id = d.device_id)
            and not exists (select 1 from identity_links as l where l.device_id = d.device_id)
            and not exists (select 1 from device_edges as a where a.device_id = d.device_id or a.other_id = d.device_id)
          limit ${sql.lit(batch)})`,
      ),
    ),
  );
  result.deadLetters = await repeat(() =>
    inBatch((trx) =>
      deleted(
        trx,
        sql`delete from dead_letters where (partition, entry_id) in (
          select partition, entry_id from dead_letters where failed_at < ${cutoff} limit ${sql.lit(batch)})`,
      ),
    ),
  );
  const expired = sql<Date>`now() - make_interval(secs => ${TOMBSTONE_SECONDS})`;
  result.tombstones =
    (await deleted(db, sql`delete from erased_users where erased_at <= ${expired}`)) +
    (await deleted(db, sql`delete from erased_devices where erased_at <= ${expired}`));
  return result;
}

/** Runs `work` in one short transaction holding retention's lock, with a roll-up writer of its own. */
export type RetentionTransaction = <T>(
  work: (trx: Kysely<Database>, rollups: RollupWriter) => Promise<T>,
) => Promise<T>;

/**
 * Removes the page views older than `cutoff` and uncounts them; answers how many went. Page views are
 * partitioned by month of `id_time`, the time in the event id (see page-view-partitions.ts), so age is
 * that time (the server time for undated ids):
 * - a month partition wholly before the cutoff is uncounted in one aggregate pass and dropped, one
 *   transaction a month: no row-by-row delete, no dead tuples, no vacuum debt;
 * - in the boundary month (the one holding the cutoff), the default partition (times no month holds)
 *   and the undated one, rows before the cutoff are deleted in batches of `batchSize`, one transaction
 *   each, so ingest and the persister go on.
 */
export async function purgePageViewsBefore(
  db: Kysely<Database>,
  inTransaction: RetentionTransaction,
  cutoff: Date,
  batchSize: number,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  const months = await pageViewMonths(db);
  for (const month of months) {
    if (signal?.aborted) return total;
    if (month.to.getTime() > cutoff.getTime()) break;
    total += await inTransaction(async (trx, rollups) => {
      const table = sql.table(month.name);
      // Counted and dropped under the partition DDL lock: nothing attaches or writes the month between.
      const n = await rollups.uncountPageViewsOf(table);
      return (await dropPageViewMonth(trx, month.name)) ? n : 0;
    });
  }
  const boundary = months.find(
    (m) => m.from.getTime() < cutoff.getTime() && cutoff.getTime() < m.to.getTime(),
  );
  const batched: Array<[string, RawBuilder<unknown>]> = [
    ...(boundary ? [[boundary.name, sql`id_time < ${cutoff}`] as [string, RawBuilder<unknown>]] : []),
    ['page_views_default', sql`id_time < ${cutoff}`],
    ['page_views_undated', sql`server_ts < ${cutoff}`],
  ];
  for (const [name, older] of batched) {
    const table = sql.table(name);
    for (;;) {
      if (signal?.aborted) return total;
      // A TID scan per batch: the rows are picked through the partition's index, then deleted by ctid.
      const n = await inTransaction((_trx, rollups) =>
        rollups.deletePageViews(
          sql`ctid = any(array(select ctid from ${table} where ${older} limit ${sql.lit(batchSize)}))`,
          table,
        ),
      );
      total += n;
      if (n < batchSize) break;
    }
  }
  return total;
}

async function deleted(db: Kysely<Database>, statement: RawBuilder<unknown>): Promise<number> {
  const r = await statement.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
