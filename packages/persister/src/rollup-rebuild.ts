/**
 * Roll-ups from scratch: `recountRollups` counts the rows as they are (what the roll-ups must equal),
 * `rebuildRollups` replaces the roll-ups with that count. `migrate` rebuilds once when the roll-up tables
 * were added to a database that already held page views.
 */
import { type Kysely, sql } from 'kysely';
import { type SessionRollupState, sessionContributions } from './rollup-metrics.js';
import { ContributionCounts, pageViewCounts, RollupWriter, sessionStateSelect } from './rollup-writes.js';
import type { Database } from './schema.js';

/** The writer key of rebuilt roll-up rows (partitions are >= 0; retention uses -1). */
const REBUILD_WRITER = -2;

/** Sessions per step of a recount or rebuild. */
const SESSIONS_PER_STEP = 5_000;

/** Roll-up counts by `metric|hour ISO|key`, with `|class` after it for a class other than `human`. */
export type RollupCounts = Map<string, number>;

const countKey = (metric: string, cls: string, hour: Date | number, key: string) =>
  `${metric}|${new Date(hour).toISOString()}|${key}${cls === 'human' ? '' : `|${cls}`}`;

/**
 * The roll-ups as readers see them: summed over writers, zero sums left out.
 *
 * @example
 * expect(await summedRollups(db)).toEqual(await recountRollups(db));
 */
export async function summedRollups(db: Kysely<Database>): Promise<RollupCounts> {
  const rows = await sql<{ metric: string; traffic_class: string; hour: Date; key: string; n: string }>`
    select metric, traffic_class, hour, key, sum(n)::text as n from rollup_hourly
    group by 1, 2, 3, 4 having sum(n) <> 0
  `.execute(db);
  return new Map(rows.rows.map((r) => [countKey(r.metric, r.traffic_class, r.hour, r.key), Number(r.n)]));
}

/** What the roll-ups must hold: every metric counted again from the page views and sessions. */
export async function recountRollups(db: Kysely<Database>): Promise<RollupCounts> {
  const out: RollupCounts = new Map();
  const pageViews = await sql<{ metric: string; traffic_class: string; hour: Date; key: string; n: string }>`
    ${pageViewCounts(sql`page_views`)}`.execute(db);
  for (const r of pageViews.rows) out.set(countKey(r.metric, r.traffic_class, r.hour, r.key), Number(r.n));
  const counts = new ContributionCounts();
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const page = await sql<SessionRollupState & { session_id: string }>`${sessionStateSelect(
      sql`s.id > ${after}`,
      sql`order by s.id limit ${sql.lit(SESSIONS_PER_STEP)}`,
    )}`.execute(db);
    for (const s of page.rows) counts.add(sessionContributions(s), 1);
    if (page.rows.length < SESSIONS_PER_STEP) break;
    after = page.rows.at(-1)!.session_id;
  }
  for (const { c, n } of counts.rows()) out.set(countKey(c[0], c[3], c[1], c[2]), n);
  return out;
}

/**
 * Replaces every roll-up with a count of the rows, in one transaction. Run it while no persister writes
 * (`migrate` does, before the persister starts) or the roll-ups of a concurrent pass may be lost.
 */
export async function rebuildRollups(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await rebuildIn(trx);
    await trx.updateTable('rollup_state').set({ rebuild_needed: false }).where('id', '=', 1).execute();
  });
}

async function rebuildIn(trx: Kysely<Database>): Promise<void> {
  await trx.deleteFrom('rollup_hourly').execute();
  await trx.deleteFrom('session_rollups').execute();
  await sql`
    insert into rollup_hourly (metric, traffic_class, hour, key, writer, n)
    select c.metric, c.traffic_class, c.hour, c.key, ${sql.lit(REBUILD_WRITER)}, c.n
    from (${pageViewCounts(sql`page_views`)}) as c
  `.execute(trx);
  const writer = new RollupWriter(trx, REBUILD_WRITER);
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const page = await sql<SessionRollupState & { session_id: string }>`
      insert into session_rollups (session_id, device_id, converted_user_id, first_seen, converted_at,
        page_views, traffic_class, entry_page, entry_referrer, views_before_conversion)
      ${sessionStateSelect(sql`s.id > ${after}`, sql`order by s.id limit ${sql.lit(SESSIONS_PER_STEP)}`)}
      returning *`.execute(trx);
    const counts = new ContributionCounts();
    for (const s of page.rows) counts.add(sessionContributions(s), 1);
    await writer.addCounts(counts.rows());
    if (page.rows.length < SESSIONS_PER_STEP) break;
    after = [...page.rows].sort((a, b) => (a.session_id < b.session_id ? -1 : 1)).at(-1)!.session_id;
  }
}

/**
 * Rebuilds when the roll-up tables were added to a database that already held rows (once: processes
 * starting together wait on the state row, and the later ones find nothing owed).
 */
export async function rebuildRollupsIfNeeded(db: Kysely<Database>): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const state = await trx
      .selectFrom('rollup_state')
      .select('rebuild_needed')
      .where('id', '=', 1)
      .forUpdate()
      .executeTakeFirst();
    if (!state?.rebuild_needed) return false;
    await rebuildIn(trx);
    await trx.updateTable('rollup_state').set({ rebuild_needed: false }).where('id', '=', 1).execute();
    return true;
  });
}
