/**
 * Fleet detection (docs/protocol.md, Bots and automation): after the fact, off the hot path, the
 * sessions of fresh ids from one network prefix (the keyed /24 or /64 hash stored with each session)
 * that never came back and never sent a second page view are marked `fleet`, when that network made
 * them at a rate and in a share no office or carrier NAT makes: people behind one address return,
 * click on, and sign in. A marked id that later returns or signs in is given back to people.
 *
 * One pass at a time across processes (a transaction-level advisory lock); the roll-ups move with
 * the sessions and their page views in the same transaction, under their own writer key.
 */
import { type Kysely, sql } from 'kysely';
import { RollupWriter } from './rollup-writes.js';
import type { Database } from './schema.js';

/** The thresholds of {@link markFleets} (`FLEET_*`). */
export interface FleetOptions {
  /** Length of the window judged, minutes (`FLEET_WINDOW_MINUTES`, default 60). */
  windowMinutes: number;
  /**
   * One-hit fresh ids one network must make in a window to be a fleet (`FLEET_MIN_IDS`, default 100:
   * a fresh, never-returning, single-page visitor every 36 seconds, around the clock of the window).
   */
  minIds: number;
  /**
   * Share of the network's sessions in the window that must be such one-hit ids, percent
   * (`FLEET_MIN_SHARE_PERCENT`, default 90): an office or a carrier NAT also carries returning
   * people and longer visits.
   */
  minSharePercent: number;
  /** How long an id must have been silent to be judged as never returning, minutes (`FLEET_QUIET_MINUTES`, default 30). */
  quietMinutes: number;
}

/** The defaults of {@link FleetOptions}. */
export const DEFAULT_FLEET_OPTIONS: Readonly<FleetOptions> = Object.freeze({
  windowMinutes: 60,
  minIds: 100,
  minSharePercent: 90,
  quietMinutes: 30,
});

/** What one pass did. */
export interface FleetResult {
  /** Sessions marked `fleet` in this pass. */
  marked: number;
  /** Sessions given back to `human` (their id returned or signed in since). */
  restored: number;
  /** False when another process held the pass. */
  ran: boolean;
}

/** The roll-up writer key of fleet passes (partitions are >= 0, retention -1, rebuilds -2). */
export const FLEET_WRITER = -3;
/** Advisory lock key of the pass ("dlfleet" in ASCII, as a number). */
const FLEET_LOCK = 0x646c666c656574;
const MINUTE = 60_000;
/** How far back a marked session may be given back (a week: beyond it the figures are settled). */
const RESTORE_DAYS = 7;

/**
 * One pass: judges the window `[now - quiet - window, now - quiet)` and gives back marked ids that
 * returned.
 *
 * @example
 * await markFleets(db, DEFAULT_FLEET_OPTIONS);
 */
export async function markFleets(
  db: Kysely<Database>,
  options: FleetOptions = DEFAULT_FLEET_OPTIONS,
  now = Date.now(),
): Promise<FleetResult> {
  return db.transaction().execute(async (trx) => {
    const lock = await sql<{
      ok: boolean;
    }>`select pg_try_advisory_xact_lock(${sql.lit(FLEET_LOCK)}) as ok`.execute(trx);
    if (!lock.rows[0]?.ok) return { marked: 0, restored: 0, ran: false };
    const until = new Date(now - options.quietMinutes * MINUTE);
    const since = new Date(until.getTime() - options.windowMinutes * MINUTE);
    const found = await sql<{ id: string; one_hit: string; total: string }>`
      with w as (
        select s.id, s.network_hash, s.traffic_class,
          (s.page_views = 1
            and not exists (select 1 from sessions as o where o.device_id = s.device_id and o.id <> s.id)
            and not exists (select 1 from identity_links as l where l.device_id = s.device_id)) as one_hit
        from sessions as s
        where s.network_hash is not null and s.first_seen >= ${since} and s.first_seen < ${until}
      ),
      fleets as (
        select network_hash, count(*) filter (where one_hit) as one_hit, count(*) as total
        from w group by 1
        having count(*) filter (where one_hit) >= ${options.minIds}
          and 100 * count(*) filter (where one_hit) >= ${options.minSharePercent} * count(*)
      )
      select w.id, f.one_hit::text, f.total::text
      from w join fleets as f on f.network_hash = w.network_hash
      where w.one_hit and w.traffic_class = 'human'
      order by w.id`.execute(trx);
    const rollups = new RollupWriter(trx, FLEET_WRITER);
    const ids = found.rows.map((r) => r.id);
    const reasons = found.rows.map((r) => `fleet:${r.one_hit}/${r.total} in ${options.windowMinutes}m`);
    const marked =
      ids.length === 0
        ? []
        : (
            await sql<{ id: string }>`
              update sessions as s set traffic_class = 'fleet', traffic_reason = v.reason
              from (select unnest(${ids}::uuid[]) as id, unnest(${reasons}::text[]) as reason) as v
              where s.id = v.id and s.traffic_class = 'human'
              returning s.id`.execute(trx)
          ).rows.map((r) => r.id);
    const restored = await restoreReturned(trx, new Date(now - RESTORE_DAYS * 24 * 60 * MINUTE));
    const changed = [...marked, ...restored];
    if (changed.length > 0) {
      await rollups.followSessionClass(changed);
      await rollups.recount(changed);
    }
    return { marked: marked.length, restored: restored.length, ran: true };
  });
}

/** Gives marked fleet sessions since `since` back to people when their id returned or signed in. */
async function restoreReturned(trx: Kysely<Database>, since: Date): Promise<string[]> {
  const back = await sql<{ id: string }>`
    update sessions as s set traffic_class = 'human', traffic_reason = null
    where s.traffic_class = 'fleet' and s.first_seen >= ${since}
      and (exists (select 1 from sessions as o where o.device_id = s.device_id and o.id <> s.id)
        or exists (select 1 from identity_links as l where l.device_id = s.device_id)
        or s.page_views > 1)
    returning s.id`.execute(trx);
  return back.rows.map((r) => r.id);
}
