/**
 * What Postgres knows of one device, for `GET /v1/admin/devices/:deviceId`: its row, persisted
 * sessions and page-view count, identity links, the edges naming it and its browser (`browser-graph.ts`).
 * Every time is ISO 8601.
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';
import { browserOf } from './browser-graph.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The persisted part of the device detail; `known` is false when no table names the device. */
export interface PersistedDevice {
  known: boolean;
  persisted: {
    firstSeen: string | null;
    lastSeen: string | null;
    pageViews: number;
    sessions: {
      id: string;
      source: string;
      visitorHash: string | null;
      firstSeen: string | null;
      lastSeen: string | null;
      pageViews: number;
      userAgent: string | null;
      trafficClass: string;
      trafficReason: string | null;
      convertedUserId: string | null;
      convertedAt: string | null;
      linkId: string | null;
    }[];
  };
  links: { id: string; userId: string; linkedAt: string | null }[];
  edges: { deviceId: string; otherId: string; kind: string; inferred: boolean; firstSeen: string | null }[];
  browser: {
    canonicalId: string;
    devices: { deviceId: string; inferred: boolean; firstSeen: string | null }[];
  };
}

/** The reads, in one snapshot (`trx`). */
function readRows(trx: Kysely<Database>, deviceId: string) {
  return Promise.all([
    trx.selectFrom('devices').selectAll().where('device_id', '=', deviceId).executeTakeFirst(),
    trx.selectFrom('sessions').selectAll().where('device_id', '=', deviceId).orderBy('first_seen').execute(),
    trx
      .selectFrom('page_views')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('device_id', '=', deviceId)
      .executeTakeFirstOrThrow(),
    trx
      .selectFrom('identity_links')
      .selectAll()
      .where('device_id', '=', deviceId)
      .orderBy('linked_at')
      .execute(),
    trx
      .selectFrom('device_edges')
      .selectAll()
      .where((eb) => eb.or([eb('device_id', '=', deviceId), eb('other_id', '=', deviceId)]))
      .orderBy('first_seen')
      .execute(),
    browserOf(trx, deviceId),
  ]);
}

/**
 * Reads the device in one repeatable-read snapshot: run in parallel on separate pool connections the
 * reads could straddle a persister commit (a converted session shown without its link).
 */
export async function persistedDevice(db: Kysely<Database>, deviceId: string): Promise<PersistedDevice> {
  const [device, sessions, pageViews, links, edges, browser] = await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute((trx) => readRows(trx, deviceId));
  return {
    known: Boolean(device) || sessions.length > 0 || links.length > 0 || edges.length > 0,
    persisted: {
      firstSeen: iso(device?.first_seen ?? null),
      lastSeen: iso(device?.last_seen ?? null),
      pageViews: Number(pageViews.n),
      sessions: sessions.map((s) => ({
        id: s.id,
        source: s.source,
        visitorHash: s.visitor_hash,
        firstSeen: iso(s.first_seen),
        lastSeen: iso(s.last_seen),
        pageViews: s.page_views,
        userAgent: s.user_agent,
        trafficClass: s.traffic_class,
        trafficReason: s.traffic_reason,
        convertedUserId: s.converted_user_id,
        convertedAt: iso(s.converted_at),
        linkId: s.link_id,
      })),
    },
    links: links.map((l) => ({ id: l.id, userId: l.user_id, linkedAt: iso(l.linked_at) })),
    edges: edges.map((e) => ({
      deviceId: e.device_id,
      otherId: e.other_id,
      kind: e.kind,
      inferred: e.kind === 'join',
      firstSeen: iso(e.first_seen),
    })),
    browser: {
      canonicalId: browser.canonicalId,
      devices: browser.devices.map((m) => ({
        deviceId: m.deviceId,
        inferred: m.inferred,
        firstSeen: iso(m.firstSeen),
      })),
    },
  };
}
