/**
 * A user's journey (`GET /v1/admin/users/:userId`): the anonymous page views of the sessions converted to the
 * user (what they did before each login) and the user's signed-in page views, in time order, a page at a time
 * by keyset cursor on (server time, event id). Only sessions converted to THIS user: on a shared device
 * another user's sessions never show. Read by index (`sessions_converted_user`,
 * `page_views_session_server_ts`, `page_views_user`).
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';
import { type Cursor, encodeCursor } from './insight-query.js';
import { type TrafficScope, trafficFilter } from './traffic-scope.js';

/** One page view of the journey. */
export interface JourneyStep {
  eventId: string;
  at: string;
  url: string;
  referrer: string | null;
  deviceId: string | null;
  sessionId: string | null;
  /** True for a page view sent signed in; false for an anonymous one of a converted session. */
  signedIn: boolean;
}

/** A session converted to the user. */
export interface JourneySession {
  sessionId: string;
  deviceId: string;
  firstSeen: string;
  lastSeen: string;
  pageViews: number;
  convertedAt: string | null;
  /** True when the session reached the user through an inferred join (docs/protocol.md, Fingerprint
   * joins), not a login. */
  inferred: boolean;
}

/** A page of the journey; `sessions` and `links` only on the first page. */
export interface JourneyPage {
  userId: string;
  sessions?: JourneySession[];
  links?: { deviceId: string; linkedAt: string }[];
  steps: JourneyStep[];
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** The page of `userId`'s journey after `cursor` (null: from the start). */
export async function userJourney(
  db: Kysely<Database>,
  userId: string,
  cursor: Cursor | null,
  limit: number,
  scope: TrafficScope = 'human',
): Promise<JourneyPage> {
  const page: JourneyPage = { userId, ...(await journeySteps(db, userId, cursor, limit, scope)) };
  return cursor ? page : { ...page, ...(await convertedSessionsAndLinks(db, userId, scope)) };
}

/** The steps after `cursor`, `limit` of them, and the cursor of the next page. */
async function journeySteps(
  db: Kysely<Database>,
  userId: string,
  cursor: Cursor | null,
  limit: number,
  scope: TrafficScope,
): Promise<Pick<JourneyPage, 'steps' | 'nextCursor'>> {
  const after = cursor ? sql`and (j.server_ts, j.event_id) > (${cursor.at}, ${cursor.id}::uuid)` : sql``;
  const steps = await sql<{
    event_id: string;
    server_ts: Date;
    url: string;
    referrer: string | null;
    device_id: string | null;
    session_id: string | null;
    signed_in: boolean;
  }>`
    select * from (
      select pv.event_id, pv.server_ts, pv.url, pv.referrer, pv.device_id, pv.session_id, false as signed_in
      from sessions as s join page_views as pv on pv.session_id = s.id
      where s.converted_user_id = ${userId} ${trafficFilter(scope, 's.traffic_class')}
      union all
      select pv.event_id, pv.server_ts, pv.url, pv.referrer, pv.device_id, pv.session_id, true as signed_in
      from page_views as pv where pv.user_id = ${userId} ${trafficFilter(scope, 'pv.traffic_class')}
    ) as j
    where true ${after}
    order by j.server_ts, j.event_id
    limit ${limit + 1}
  `.execute(db);
  const rows = steps.rows.slice(0, limit);
  const last = rows.at(-1);
  return {
    steps: rows.map((r) => ({
      eventId: r.event_id,
      at: iso(r.server_ts)!,
      url: r.url,
      referrer: r.referrer,
      deviceId: r.device_id,
      sessionId: r.session_id,
      signedIn: r.signed_in,
    })),
    nextCursor:
      steps.rows.length > limit && last ? encodeCursor(new Date(last.server_ts), last.event_id) : null,
  };
}

/** The first page's extras: the sessions converted to the user and the user's links. */
async function convertedSessionsAndLinks(
  db: Kysely<Database>,
  userId: string,
  scope: TrafficScope,
): Promise<Required<Pick<JourneyPage, 'sessions' | 'links'>>> {
  const [sessions, links] = await Promise.all([
    db
      .selectFrom('sessions')
      .select(['id', 'device_id', 'first_seen', 'last_seen', 'page_views', 'converted_at'])
      .where('converted_user_id', '=', userId)
      .$if(scope === 'human', (q) => q.where('traffic_class', '=', 'human'))
      .orderBy('first_seen')
      .orderBy('id')
      .limit(1_000)
      .execute(),
    db
      .selectFrom('identity_links')
      .select(['device_id', 'linked_at'])
      .where('user_id', '=', userId)
      .orderBy('linked_at')
      .limit(1_000)
      .execute(),
  ]);
  return {
    sessions: sessions.map((s) => ({
      sessionId: s.id,
      deviceId: s.device_id,
      firstSeen: iso(s.first_seen)!,
      lastSeen: iso(s.last_seen)!,
      pageViews: s.page_views,
      convertedAt: iso(s.converted_at),
      inferred: false,
    })),
    links: links.map((l) => ({ deviceId: l.device_id, linkedAt: iso(l.linked_at)! })),
  };
}
