/**
 * Retention (`RETENTION_DAYS`; docs/protocol.md, Erasure): removes what is older than the limit in bounded
 * batches, each its own short transaction, so ingest and the persister go on while it runs. Roll-ups stay
 * exact: the rows a batch deletes are uncounted in the same transaction (writer {@link RETENTION_WRITER}),
 * and the roll-up hours before the cutoff are dropped last.
 *
 * Every row is aged by the server's receipt time, never a client's clock. Page views go through
 * {@link purgePageViewsBefore}: they are partitioned by the month of their event id's time
 * (page-view-partitions.ts), so it drops the months wholly past the limit (keeping the rows received within
 * it) and deletes the rest by `server_ts` in batches.
 */
import { TOMBSTONE_SECONDS } from '@devicelink/protocol';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { dropPageViewMonth, pageViewMonths } from './page-view-partitions.js';
import { RollupWriter } from './rollup-writes.js';
import type { Database } from './schema.js';

/** The writer key of retention's roll-up rows (partitions are >= 0). */
const RETENTION_WRITER = -1;

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
   * More tables to purge (identity edges: docs/protocol.md, Edges), each called until it answers 0, with the
   * cutoff and batch size; runs in its own transaction per batch.
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
  const purge = purgeRun(db, options);
  const { cutoff, batch } = purge;
  const deletes = batchDeletes(cutoff, batch);
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
  await purgeSessions(purge, result);
  result.pageViews += await purgePageViewsBefore(db, purge.inBatch, cutoff, batch, options.signal);
  result.rollupRows = await purge.batched(deletes.rollupHours);
  // The names folded hours kept (rollup-folding.ts) go with their hours.
  await purge.batched(deletes.keptNames);
  result.links = await purge.batched(deletes.links);
  result.aliases = await purge.batched(deletes.edges);
  // Boundaries only keep conversions from crossing: past the cutoff there is nothing left to convert.
  result.boundaries = await purge.batched(deletes.boundaries);
  for (const step of options.extraSteps ?? []) {
    result[step.name] = await purge.repeat(() => step.run(db, cutoff, batch));
  }
  result.devices = await purge.batched(deletes.unusedDevices);
  result.deadLetters = await purge.batched(deletes.deadLetters);
  result.tombstones = await purgeTombstones(db);
  return result;
}

/** One retention pass's cutoff, batch size and ways to run its batches. */
interface PurgeRun {
  cutoff: Date;
  batch: number;
  /** Runs `step` until it answers less than a full batch (or the signal aborts); answers the sum. */
  repeat(step: () => Promise<number>): Promise<number>;
  inBatch: RetentionTransaction;
  /** Repeats `statement`, one transaction a batch, until it deletes less than a full batch. */
  batched(statement: RawBuilder<unknown>): Promise<number>;
}

function purgeRun(db: Kysely<Database>, options: RetentionOptions): PurgeRun {
  const batch = options.batchSize ?? 5_000;
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
  return {
    cutoff: retentionCutoff(options.retentionDays, options.now),
    batch,
    repeat,
    inBatch,
    batched: (statement) => repeat(() => inBatch((trx) => deleted(trx, statement))),
  };
}

/** Sessions that started before the cutoff go whole, with their page views (a few may be newer). */
async function purgeSessions(
  { cutoff, batch, repeat, inBatch }: PurgeRun,
  result: PurgeResult,
): Promise<void> {
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
}

/** The statements deleting one batch of each kind of row retention ages out by a time of its own. */
function batchDeletes(cutoff: Date, batch: number) {
  const limit = sql.lit(batch);
  return {
    rollupHours: sql`delete from rollup_hourly where (metric, traffic_class, hour, key, writer) in (
      select metric, traffic_class, hour, key, writer from rollup_hourly
      where hour < ${cutoff} limit ${limit})`,
    keptNames: sql`delete from rollup_kept where (metric, traffic_class, hour, key) in (
      select metric, traffic_class, hour, key from rollup_kept
      where hour < ${cutoff} limit ${limit})`,
    links: sql`delete from identity_links where id in (
      select id from identity_links where linked_at < ${cutoff} limit ${limit})`,
    edges: sql`delete from device_edges where (device_id, other_id, kind) in (
      select device_id, other_id, kind from device_edges where first_seen < ${cutoff} limit ${limit})`,
    boundaries: sql`delete from device_boundaries where (device_id, other_id) in (
      select device_id, other_id from device_boundaries where replaced_at < ${cutoff} limit ${limit})`,
    // Devices last seen before the cutoff with nothing left that names them.
    unusedDevices: sql`delete from devices where device_id in (
      select d.device_id from devices as d
      where d.last_seen < ${cutoff}
        and not exists (select 1 from sessions as s where s.device_id = d.device_id)
        and not exists (select 1 from page_views as pv where pv.device_id = d.device_id)
        and not exists (select 1 from identity_links as l where l.device_id = d.device_id)
        and not exists (select 1 from device_edges as a where a.device_id = d.device_id or a.other_id = d.device_id)
      limit ${limit})`,
    deadLetters: sql`delete from dead_letters where (partition, entry_id) in (
      select partition, entry_id from dead_letters where failed_at < ${cutoff} limit ${limit})`,
  };
}

/** The user and device tombstones past their 30 days (docs/protocol.md, Erasure). */
async function purgeTombstones(db: Kysely<Database>): Promise<number> {
  const expired = sql<Date>`now() - make_interval(secs => ${TOMBSTONE_SECONDS})`;
  return (
    (await deleted(db, sql`delete from erased_users where erased_at <= ${expired}`)) +
    (await deleted(db, sql`delete from erased_devices where erased_at <= ${expired}`))
  );
}

/** Runs `work` in one short transaction holding retention's lock, with a roll-up writer of its own. */
export type RetentionTransaction = <T>(
  work: (trx: Kysely<Database>, rollups: RollupWriter) => Promise<T>,
) => Promise<T>;

/**
 * Removes the page views received before `cutoff` (by `server_ts`, the collector's clock: never the
 * time a client minted into the event id) and uncounts them; answers how many went. Page views are
 * partitioned by month of `id_time`, the time in the event id (see page-view-partitions.ts), so:
 * - a month partition whose id times are wholly before the cutoff has its old rows uncounted in one
 *   aggregate pass and is dropped, one transaction a month, after the rows received within the limit
 *   (a client clock behind) moved to the default partition: no row-by-row delete of the bulk;
 * - every other partition (the months left, the default one with ids of any time, the undated one) is
 *   purged of rows received before the cutoff in batches of `batchSize`, one transaction each,
 *   through the `server_ts` index, so ingest and the persister go on.
 *
 * Sessions that started before the cutoff went first, whole ({@link purgeExpired}); a page view is never
 * received before its session started, so what goes here belongs to no session left and sessions'
 * page-view counts stay equal to their rows.
 */
async function purgePageViewsBefore(
  db: Kysely<Database>,
  inTransaction: RetentionTransaction,
  cutoff: Date,
  batchSize: number,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  const months = await pageViewMonths(db);
  const old = sql`server_ts < ${cutoff}`;
  const left: string[] = [];
  for (const month of months) {
    if (signal?.aborted) return total;
    if (month.to.getTime() > cutoff.getTime()) {
      left.push(month.name);
      continue;
    }
    total += await inTransaction(async (trx, rollups) => {
      const n = await rollups.uncountPageViewsOf(sql.table(month.name), old);
      return (await dropPageViewMonth(trx, month.name, cutoff)) ? n : 0;
    });
  }
  for (const name of [...left, 'page_views_default', 'page_views_undated']) {
    const table = sql.table(name);
    for (;;) {
      if (signal?.aborted) return total;
      // A TID scan per batch: the rows are picked through the partition's index, then deleted by ctid.
      const n = await inTransaction((_trx, rollups) =>
        rollups.deletePageViews(
          sql`ctid = any(array(select ctid from ${table} where ${old} limit ${sql.lit(batchSize)}))`,
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
