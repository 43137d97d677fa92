/**
 * What the people-only figures left out (docs/protocol.md, Bots and automation): the sessions started
 * in a range whose stored class is not `human`, by class (with their page views) and by user agent,
 * for the dashboard's "Excluded traffic" panel and for audits. Read from `sessions` through the
 * partial index `sessions_non_human`.
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';
import type { HourRange } from './insight-query.js';

/** Excluded sessions of one class. */
export interface ExcludedClass {
  trafficClass: string;
  sessions: number;
  pageViews: number;
}

/** One excluded user agent (as stored, at most 512 characters) and its commonest reason. */
export interface ExcludedUserAgent {
  userAgent: string | null;
  trafficClass: string;
  reason: string | null;
  sessions: number;
}

/** The excluded traffic of a range. */
export interface ExcludedTraffic {
  byClass: ExcludedClass[];
  topUserAgents: ExcludedUserAgent[];
}

/**
 * The sessions of `range` whose class is not `human`, by class and by user agent (top `limit`).
 *
 * @example
 * const { byClass } = await excludedTraffic(db, range, 10);
 */
export async function excludedTraffic(
  db: Kysely<Database>,
  range: HourRange,
  limit: number,
): Promise<ExcludedTraffic> {
  const where = sql`traffic_class <> 'human' and first_seen >= ${range.from} and first_seen < ${range.to}`;
  const [byClass, agents] = await Promise.all([
    sql<{ traffic_class: string; sessions: string; page_views: string }>`
      select traffic_class, count(*)::text as sessions, coalesce(sum(page_views), 0)::text as page_views
      from sessions where ${where}
      group by 1 order by count(*) desc, 1`.execute(db),
    sql<{ user_agent: string | null; traffic_class: string; reason: string | null; sessions: string }>`
      select user_agent, traffic_class, mode() within group (order by traffic_reason) as reason,
        count(*)::text as sessions
      from sessions where ${where}
      group by 1, 2 order by count(*) desc, 1 nulls last, 2
      limit ${limit}`.execute(db),
  ]);
  return {
    byClass: byClass.rows.map((r) => ({
      trafficClass: r.traffic_class,
      sessions: Number(r.sessions),
      pageViews: Number(r.page_views),
    })),
    topUserAgents: agents.rows.map((r) => ({
      userAgent: r.user_agent,
      trafficClass: r.traffic_class,
      reason: r.reason,
      sessions: Number(r.sessions),
    })),
  };
}
