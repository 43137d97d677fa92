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
 * Medians are `percentile_cont(0.5)`: the mean of the two middle values for an even count.
 *
 * Each query reads through an index (`sessions_stats_window`, `page_views_session_server_ts`).
 */

import type { Database } from '@devicelink/persister';
import { type Kysely, type RawBuilder, sql } from 'kysely';

/** The stats of one window. */
export interface Stats {
  from: string;
  to: string;
  sessionsStarted: number;
  convertedSessions: number;
  conversionRate: number | null;
  medianPageViewsBeforeConversion: number | null;
  medianSecondsToConversion: number | null;
}

/** Sessions started, converted and the median seconds to conversion, in one pass over the window. */
export function sessionStatsQuery(
  from: Date,
  to: Date,
): RawBuilder<{ started: number; converted: number; median_seconds: number | null }> {
  return sql`
    select
      count(*)::int as started,
      count(converted_user_id)::int as converted,
      percentile_cont(0.5) within group (
        order by extract(epoch from (converted_at - first_seen))::float8
      ) filter (where converted_user_id is not null) as median_seconds
    from sessions
    where first_seen >= ${from} and first_seen < ${to}
  `;
}

/** Median page views of the window's converted sessions at or before their link. */
export function pageViewsBeforeConversionQuery(from: Date, to: Date): RawBuilder<{ median: number | null }> {
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
    ) as t
  `;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Reads the stats of `[from, to)`.
 *
 * @example
 * const stats = await readStats(db, new Date('2026-01-01Z'), new Date('2026-02-01Z'));
 */
export async function readStats(db: Kysely<Database>, from: Date, to: Date): Promise<Stats> {
  const [sessions, pages] = await Promise.all([
    sessionStatsQuery(from, to).execute(db),
    pageViewsBeforeConversionQuery(from, to).execute(db),
  ]);
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
  };
}
