/**
 * The admin stats (docs/protocol.md, HTTP API: `GET /v1/admin/stats`), computed in Postgres.
 *
 * Definitions, over the sessions that STARTED in `[from, to)` (`sessions.first_seen`, the server time
 * of a session's first page view):
 * - `sessionsStarted`: how many there are;
 * - `convertedSessions`: how many of them are converted (their device's qualifying link, see the
 *   conversion rule), whenever the link came;
 * - `conversionRate`: converted / started, or null when none started;
 * - `medianPageViewsBeforeConversion`: median, over the converted ones, of the page views of the session
 *   at or before its link's time (null when none converted);
 * - `medianSecondsToConversion`: median, over the converted ones, of the seconds from the session's first
 *   page view to its link (null when none converted).
 * - `devices`: distinct device ids among those sessions (raw ids, as stored);
 * - `browsers`: those ids resolved into browsers through cookie and yield edges and standing
 *   fingerprint joins (docs/protocol.md, Edges; at most 6 edges away);
 * - `browsersByCookie`: the same through cookie and yield edges alone, so `browsersByCookie - browsers`
 *   is what inferred joins merged.
 * Medians are `percentile_cont(0.5)`: the mean of the two middle values for an even count.
 *
 * Sessions count when their stored traffic class is `human`, unless the reader asks for all traffic
 * (docs/protocol.md, Bots and automation).
 *
 * Each query reads through an index (`sessions_stats_window`, `page_views_session_server_ts`).
 */

import type { Database } from '@devicelink/persister';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { type TrafficScope, trafficFilter } from './traffic-scope.js';

/** The stats of one window. */
export interface Stats {
  from: string;
  to: string;
  sessionsStarted: number;
  convertedSessions: number;
  conversionRate: number | null;
  medianPageViewsBeforeConversion: number | null;
  medianSecondsToConversion: number | null;
  devices: number;
  browsers: number;
  browsersByCookie: number;
}

/** Sessions started, converted and the median seconds to conversion, in one pass over the window. */
export function sessionStatsQuery(
  from: Date,
  to: Date,
  scope: TrafficScope = 'human',
): RawBuilder<{ started: number; converted: number; median_seconds: number | null }> {
  return sql`
    select
      count(*)::int as started,
      count(converted_user_id)::int as converted,
      percentile_cont(0.5) within group (
        order by extract(epoch from (converted_at - first_seen))::float8
      ) filter (where converted_user_id is not null) as median_seconds
    from sessions
    where first_seen >= ${from} and first_seen < ${to} ${trafficFilter(scope)}
  `;
}

/** Median page views of the window's converted sessions at or before their link. */
export function pageViewsBeforeConversionQuery(
  from: Date,
  to: Date,
  scope: TrafficScope = 'human',
): RawBuilder<{ median: number | null }> {
  return sql`
    select percentile_cont(0.5) within group (order by t.n) as median
    from (
      select (
        select count(*)
        from page_views as pv
        where pv.session_id = s.id and pv.server_ts <= s.converted_at
      )::float8 as n
      from sessions as s
      where s.first_seen >= ${from} and s.first_seen < ${to} and s.converted_user_id is not null
        ${trafficFilter(scope, 's.traffic_class')}
    ) as t
  `;
}

/** Devices and browsers of the window's sessions (edges resolved when read, see the file comment). */
function browserStatsQuery(
  from: Date,
  to: Date,
  scope: TrafficScope = 'human',
): RawBuilder<{ devices: number; browsers: number; browsers_by_cookie: number }> {
  return sql`
    with recursive
    w as (
      select distinct device_id as id from sessions
      where first_seen >= ${from} and first_seen < ${to} ${trafficFilter(scope)}
    ),
    standing as (
      select e.device_id as a, e.other_id as b, e.kind = 'join' as j
      from device_edges as e
      where (e.kind <> 'join' or not exists (
        select 1 from fingerprint_revocations as r
        where r.device_id = e.other_id and r.revoked_until >= e.first_seen
      ))
        -- A boundary (a replacement after a reset): two people, never one browser.
        and not exists (
          select 1 from device_boundaries as bd
          where (bd.device_id = e.device_id and bd.other_id = e.other_id)
             or (bd.device_id = e.other_id and bd.other_id = e.device_id)
        )
    ),
    undirected as (select a, b, j from standing union all select b, a, j from standing),
    reach (root, id, j, depth) as (
      select id, id, false, 0 from w
      union
      select r.root, u.b, r.j or u.j, r.depth + 1
      from reach as r join undirected as u on u.a = r.id
      where r.depth < 6
    ),
    canon as (
      select root, min(id) as any_edge, min(id) filter (where not j) as by_cookie from reach group by root
    )
    select count(*)::int as devices, count(distinct any_edge)::int as browsers,
      count(distinct by_cookie)::int as browsers_by_cookie
    from canon
  `;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Reads the stats of `[from, to)`.
 *
 * @example
 * const stats = await readStats(db, new Date('2026-01-01Z'), new Date('2026-02-01Z'));
 */
export async function readStats(
  db: Kysely<Database>,
  from: Date,
  to: Date,
  scope: TrafficScope = 'human',
): Promise<Stats> {
  const [sessions, pages, browsers] = await Promise.all([
    sessionStatsQuery(from, to, scope).execute(db),
    pageViewsBeforeConversionQuery(from, to, scope).execute(db),
    browserStatsQuery(from, to, scope).execute(db),
  ]);
  const b = browsers.rows[0];
  const s = sessions.rows[0];
  const started = Number(s?.started ?? 0);
  const converted = Number(s?.converted ?? 0);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    sessionsStarted: started,
    convertedSessions: converted,
    conversionRate: started === 0 ? null : converted / started,
    medianPageViewsBeforeConversion: num(pages.rows[0]?.median),
    medianSecondsToConversion: num(s?.median_seconds),
    devices: Number(b?.devices ?? 0),
    browsers: Number(b?.browsers ?? 0),
    browsersByCookie: Number(b?.browsers_by_cookie ?? 0),
  };
}
