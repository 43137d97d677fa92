/**
 * Bounded roll-ups: pages and referrer origins are whatever clients send, so an hour's
 * roll-ups had one row per distinct URL (about 1,365 bytes per page view of a new URL, with no bound).
 * Once an hour is past, this job folds each of its open-keyed metrics (`KEYED_METRICS`) and traffic
 * classes that holds more than `keysPerHour` distinct keys: the `keysPerHour` keys with the most counts
 * keep their names, every other key's count moves into one `(other)` row (`ROLLUP_OTHER_KEY`), and the
 * hour's rows of all writers become one row per key under {@link FOLD_WRITER}. So a past hour holds at
 * most `keysPerHour + 1` rows per metric and class. The current hour stays exact per URL until it
 * closes; folding runs a few minutes after.
 *
 * Counts stay exact in total: the kept names are recorded (`rollup_kept`, its `(other)` row marking
 * the hour folded), and every later write to a folded hour (a late page view, an erasure, a session
 * recounted) sends a key the hour does not keep to `(other)` (`rollup-writes.ts`), so the roll-ups keep
 * equalling a recount that maps keys the same way (`recountRollups`). A write racing the fold itself
 * can leave a loose row under its own writer; the next run folds it in.
 *
 * One job at a time across persisters (an advisory lock; the others skip the run). Hours are visited
 * from where the last run ended (`rollup_state.folded_before`), going back `lookbackHours` for late
 * writes; the first run visits every hour once.
 */
import { type Kysely, sql } from 'kysely';
import { DEFAULT_ROLLUP_KEYS_PER_HOUR, KEYED_METRICS, ROLLUP_OTHER_KEY } from './rollup-metrics.js';
import type { Database } from './schema.js';

/** The writer key of folded roll-up rows (partitions are >= 0; retention -1, rebuild -2, fleet -3). */
export const FOLD_WRITER = -4;

/** The advisory-lock key of the job (namespace, key): one runs at a time. */
const LOCK = [72_104, FOLD_WRITER] as const;

const HOUR = 3_600_000;

/** Options of {@link foldRollups}. */
export interface FoldOptions {
  /** Keys an hour keeps by name per metric and traffic class (default 100, `ROLLUP_KEYS_PER_HOUR`). */
  keysPerHour?: number;
  /** The time of the run (tests). */
  now?: Date;
  /** An hour is folded once it ended this long ago, ms (default 5 minutes). */
  graceMs?: number;
  /** How far back before the last run's end hours are visited again for late writes (default 48). */
  lookbackHours?: number;
}

/** What a run did. */
export interface FoldResult {
  /** Metric, class and hour groups folded for the first time. */
  folded: number;
  /** Groups already folded whose loose rows (late writes) were folded in. */
  tidied: number;
  /** False when another persister held the job. */
  ran: boolean;
}

interface Group {
  metric: string;
  traffic_class: string;
  hour: Date;
  keys: number;
  loose: boolean;
  folded: boolean;
}

/**
 * One run of the job; see the module comment.
 *
 * @example
 * await foldRollups(db, { keysPerHour: 100 });
 */
export async function foldRollups(db: Kysely<Database>, options: FoldOptions = {}): Promise<FoldResult> {
  const keysPerHour = options.keysPerHour ?? DEFAULT_ROLLUP_KEYS_PER_HOUR;
  if (!Number.isInteger(keysPerHour) || keysPerHour < 1) {
    throw new RangeError(`keysPerHour must be a positive integer, got ${keysPerHour}`);
  }
  const now = (options.now ?? new Date()).getTime();
  const closedBefore = new Date(Math.floor((now - (options.graceMs ?? 5 * 60_000)) / HOUR) * HOUR);
  const lookbackMs = (options.lookbackHours ?? 48) * HOUR;
  const result: FoldResult = { folded: 0, tidied: 0, ran: true };

  const state = await db
    .selectFrom('rollup_state')
    .select('folded_before')
    .where('id', '=', 1)
    .executeTakeFirst();
  const last = state?.folded_before ?? null;
  const from = last === null ? null : new Date(Math.min(last.getTime(), closedBefore.getTime() - lookbackMs));

  const groups = await sql<Group>`
    select r.metric, r.traffic_class, r.hour, count(distinct r.key)::int as keys,
      bool_or(r.writer <> ${sql.lit(FOLD_WRITER)}) as loose,
      exists (
        select 1 from rollup_kept as f
        where f.metric = r.metric and f.traffic_class = r.traffic_class and f.hour = r.hour
          and f.key = ${ROLLUP_OTHER_KEY}
      ) as folded
    from rollup_hourly as r
    where r.metric in (${sql.join(KEYED_METRICS)}) and r.hour < ${closedBefore}
      ${from === null ? sql`` : sql`and r.hour >= ${from}`}
    group by r.metric, r.traffic_class, r.hour
    order by r.hour, r.metric, r.traffic_class`.execute(db);

  for (const g of groups.rows) {
    const fold = !g.folded && g.keys > keysPerHour;
    if (!fold && !(g.folded && g.loose)) continue;
    const done = await db.transaction().execute(async (trx) => {
      const locked = await sql<{ ok: boolean }>`
        select pg_try_advisory_xact_lock(${sql.lit(LOCK[0])}, ${sql.lit(LOCK[1])}) as ok`.execute(trx);
      if (!locked.rows[0]?.ok) return false;
      if (fold) await keepTop(trx, g, keysPerHour);
      await consolidate(trx, g);
      return true;
    });
    if (!done) return { ...result, ran: false };
    if (fold) result.folded += 1;
    else result.tidied += 1;
  }
  await db
    .updateTable('rollup_state')
    .set({ folded_before: closedBefore })
    .where('id', '=', 1)
    .where((eb) => eb.or([eb('folded_before', 'is', null), eb('folded_before', '<', closedBefore)]))
    .execute();
  return result;
}

/** Records the names the group keeps (its `keysPerHour` keys with the most counts) and its `(other)` mark. */
async function keepTop(trx: Kysely<Database>, g: Group, keysPerHour: number): Promise<void> {
  await sql`
    insert into rollup_kept (metric, traffic_class, hour, key)
    select ${g.metric}, ${g.traffic_class}, ${g.hour}::timestamptz, t.key from (
      select key from rollup_hourly
      where metric = ${g.metric} and traffic_class = ${g.traffic_class} and hour = ${g.hour}
        and key <> ${ROLLUP_OTHER_KEY}
      group by key having sum(n) > 0
      order by sum(n) desc, key
      limit ${sql.lit(keysPerHour)}
    ) as t
    union all select ${g.metric}, ${g.traffic_class}, ${g.hour}::timestamptz, ${ROLLUP_OTHER_KEY}
    on conflict do nothing`.execute(trx);
}

/**
 * Moves every row of the group not under {@link FOLD_WRITER} into the fold writer's row of its key, or
 * of `(other)` for a key the hour does not keep: in one statement, so exactly the counts removed are
 * added (a concurrent writer's row is either removed whole, after its commit, or left for the next run).
 */
async function consolidate(trx: Kysely<Database>, g: Group): Promise<void> {
  await sql`
    with gone as (
      delete from rollup_hourly
      where metric = ${g.metric} and traffic_class = ${g.traffic_class} and hour = ${g.hour}
        and writer <> ${sql.lit(FOLD_WRITER)}
      returning metric, traffic_class, hour, key, n
    )
    insert into rollup_hourly (metric, traffic_class, hour, key, writer, n)
    select gone.metric, gone.traffic_class, gone.hour,
      case when rk.key is null then ${ROLLUP_OTHER_KEY} else gone.key end as mapped,
      ${sql.lit(FOLD_WRITER)}, sum(gone.n)
    from gone
    left join rollup_kept as rk on rk.metric = gone.metric and rk.traffic_class = gone.traffic_class
      and rk.hour = gone.hour and rk.key = gone.key
    group by gone.metric, gone.traffic_class, gone.hour, mapped
    having sum(gone.n) <> 0
    on conflict (metric, traffic_class, hour, key, writer) do update set n = rollup_hourly.n + excluded.n`.execute(
    trx,
  );
}
