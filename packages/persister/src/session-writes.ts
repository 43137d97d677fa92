/**
 * The sessions of the page views a batch inserted: one upsert per slice, counting only the inserted
 * rows (a redelivered page view adds nothing), with the traffic class (docs/protocol.md, Bots and
 * automation): one marked page view marks its session for good, and the page views of a marked
 * session follow its class (their roll-up counts move with them).
 */
import type { PageviewRecord } from '@devicelink/protocol';
import { isTrafficClass, MAX_TRAFFIC_REASON, type TrafficClass } from '@devicelink/protocol';
import { sql, type Transaction } from 'kysely';
import { slices } from './insert-slices.js';
import type { RollupWriter } from './rollup-writes.js';
import type { Database } from './schema.js';

const date = (ms: number): Date => new Date(ms);

/** A session's rows of one batch, before the upsert. */
interface SessionDraft {
  record: PageviewRecord;
  first: number;
  last: number;
  count: number;
  trafficClass: TrafficClass;
  trafficReason: string | null;
  /** One of the session's page views in this batch is not `human`. */
  marked: boolean;
}

/** The stored class of a queued page view: `human` when absent (queued before classes, or filter off). */
export const trafficClassOf = (p: PageviewRecord): TrafficClass =>
  isTrafficClass(p.trafficClass) ? p.trafficClass : 'human';

/** The stored reason of a queued page view (cut to the longest kept). */
export const trafficReasonOf = (p: PageviewRecord): string | null =>
  typeof p.trafficReason === 'string' ? p.trafficReason.slice(0, MAX_TRAFFIC_REASON) : null;

/** The sessions of `inserted` page views, as one batch adds them up. */
function sessionDrafts(inserted: readonly PageviewRecord[]): Map<string, SessionDraft> {
  const sessions = new Map<string, SessionDraft>();
  for (const p of inserted) {
    if (!p.sessionId || !p.deviceId) continue;
    const s = sessions.get(p.sessionId);
    if (s) {
      s.first = Math.min(s.first, p.serverTs);
      s.last = Math.max(s.last, p.serverTs);
      s.count++;
      // One marked page view marks its session (the first mark's reason is kept).
      if (s.trafficClass === 'human' && trafficClassOf(p) !== 'human') {
        s.trafficClass = trafficClassOf(p);
        s.trafficReason = trafficReasonOf(p);
      }
      if (trafficClassOf(p) !== 'human') s.marked = true;
    } else {
      sessions.set(p.sessionId, {
        record: p,
        first: p.serverTs,
        last: p.serverTs,
        count: 1,
        trafficClass: trafficClassOf(p),
        trafficReason: trafficReasonOf(p),
        marked: trafficClassOf(p) !== 'human',
      });
    }
  }
  return sessions;
}

/**
 * Upserts the sessions of `inserted` (page views this batch inserted) and resolves with their devices.
 */
export async function writeSessions(
  trx: Transaction<Database>,
  inserted: readonly PageviewRecord[],
  rollups: RollupWriter,
): Promise<string[]> {
  const sessions = sessionDrafts(inserted);
  const sessionRows = [...sessions.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, s]) => ({
      id,
      device_id: s.record.deviceId!,
      source: s.record.source ?? 'header',
      visitor_hash: s.record.visitorHash,
      first_seen: date(s.first),
      last_seen: date(s.last),
      page_views: s.count,
      user_agent: s.record.userAgent,
      traffic_class: s.trafficClass,
      traffic_reason: s.trafficReason,
      network_hash: s.record.networkHash ?? null,
    }));
  // Sessions whose page views may not all carry the session's class: one of this batch was marked, or
  // the stored session already is (its page views follow it, so people's page-view figures leave it out).
  const mixed: string[] = [];
  for (const rows of slices(sessionRows)) {
    const stored = await trx
      .insertInto('sessions')
      .values(rows)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          first_seen: sql`least(sessions.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(sessions.last_seen, excluded.last_seen)`,
          page_views: sql`sessions.page_views + excluded.page_views`,
          visitor_hash: sql`coalesce(sessions.visitor_hash, excluded.visitor_hash)`,
          user_agent: sql`coalesce(sessions.user_agent, excluded.user_agent)`,
          network_hash: sql`coalesce(sessions.network_hash, excluded.network_hash)`,
          // A session stays marked once marked; a later marked page view marks a human one.
          traffic_reason: sql`case when sessions.traffic_class = 'human' and excluded.traffic_class <> 'human'
            then excluded.traffic_reason else sessions.traffic_reason end`,
          traffic_class: sql`case when sessions.traffic_class = 'human' then excluded.traffic_class
            else sessions.traffic_class end`,
        }),
      )
      .returning(['id', 'traffic_class'])
      .execute();
    for (const s of stored) {
      if (s.traffic_class !== 'human' || sessions.get(s.id)?.marked) mixed.push(s.id);
    }
  }
  if (mixed.length > 0) await rollups.followSessionClass(mixed);
  return [...new Set([...sessions.values()].map((s) => s.record.deviceId!))];
}
