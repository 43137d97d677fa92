/**
 * Writes one batch of queue entries to Postgres in ONE transaction. Every step is idempotent, so a batch
 * delivered again (reclaimed after a crash between commit and acknowledge) changes nothing:
 * page views are inserted once by event id and only the rows actually inserted count towards their
 * session; links carry a deterministic id; aliases and devices are upserts; erasures delete.
 *
 * Erasure (../shared/CONTRACT.md, Erasure): an `erase` record removes a device, an `erase-user` record
 * the user's links, the sessions and page views converted to the user and the user's own page views,
 * and leaves the user id in `erased_users` for 30 days so that links and page views of the user still
 * queued in other partitions are dropped instead of written back.
 */
import type {
  AliasRecord,
  EraseRecord,
  EraseUserRecord,
  LinkRecord,
  PageviewRecord,
  QueueEntry,
} from '@devicelink/fastify';
import { TOMBSTONE_SECONDS } from '@devicelink/protocol';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { applyConversionRule } from './conversion-rule.js';
import { linkId } from './link-id.js';

/** What a committed batch did. */
export interface BatchResult {
  pageViewsInserted: number;
  linksInserted: number;
  sessionsConverted: number;
  erased: number;
  usersErased: number;
}

/** Advisory lock namespace of a partition's batches (with the partition number as second key). */
const PARTITION_LOCK_NAMESPACE = 72_104;

const date = (ms: number): Date => new Date(ms);

/**
 * Writes `entries` (all from `partition`, in queue order) and applies the conversion rule to the devices
 * they touch, in one transaction.
 */
export async function writeBatch(
  db: Kysely<Database>,
  partition: number,
  entries: readonly QueueEntry[],
  lookbackDays: number,
): Promise<BatchResult> {
  return db.transaction().execute(async (trx) => {
    // Two persisters may hold entries of one partition (one reclaimed what the other left). Serialising
    // a partition's batches keeps the conversion rule from missing a link committed concurrently, and
    // keeps row locks in one order (no deadlocks).
    await sql`select pg_advisory_xact_lock(${PARTITION_LOCK_NAMESPACE}, ${partition})`.execute(trx);
    const result: BatchResult = {
      pageViewsInserted: 0,
      linksInserted: 0,
      sessionsConverted: 0,
      erased: 0,
      usersErased: 0,
    };
    const touched = new Set<string>();
    let chunk: QueueEntry[] = [];
    for (const entry of entries) {
      if (entry.record.kind === 'erase') {
        await writeChunk(trx, chunk, result, touched);
        chunk = [];
        await erase(trx, entry.record);
        touched.delete(entry.record.deviceId);
        result.erased++;
      } else if (entry.record.kind === 'erase-user') {
        await writeChunk(trx, chunk, result, touched);
        chunk = [];
        // Sessions written so far must carry their conversion before the user's are removed: a session
        // queued ahead of the erasure and converted to the user goes with it.
        result.sessionsConverted += await applyConversionRule(trx, [...touched].sort(), lookbackDays);
        await eraseUser(trx, entry.record);
        result.usersErased++;
      } else {
        chunk.push(entry);
      }
    }
    await writeChunk(trx, chunk, result, touched);
    result.sessionsConverted = await applyConversionRule(trx, [...touched].sort(), lookbackDays);
    return result;
  });
}

async function writeChunk(
  trx: Transaction<Database>,
  entries: readonly QueueEntry[],
  result: BatchResult,
  touched: Set<string>,
): Promise<void> {
  const pageviews: PageviewRecord[] = [];
  const links: LinkRecord[] = [];
  const aliases: AliasRecord[] = [];
  const userIds = new Set<string>();
  for (const { record } of entries) {
    if (record.kind === 'pageview' || record.kind === 'link') {
      if (record.userId) userIds.add(record.userId);
    }
  }
  const erased = await erasedUsers(trx, [...userIds]);
  for (const { record } of entries) {
    // An erased user's link or page view that was still queued is dropped, not written back.
    if (record.kind === 'pageview') {
      if (!(record.userId && erased.has(record.userId))) pageviews.push(record);
    } else if (record.kind === 'link') {
      if (!erased.has(record.userId)) links.push(record);
    } else if (record.kind === 'alias') aliases.push(record);
  }
  // Device rows first-seen/last-seen bounds, from everything in the chunk.
  const devices = new Map<string, { first: number; last: number }>();
  const seeDevice = (id: string | null, ts: number) => {
    if (!id) return;
    const d = devices.get(id);
    if (d) {
      d.first = Math.min(d.first, ts);
      d.last = Math.max(d.last, ts);
    } else devices.set(id, { first: ts, last: ts });
  };
  for (const p of pageviews) seeDevice(p.deviceId, p.serverTs);
  for (const l of links) seeDevice(l.deviceId, l.ts);
  for (const a of aliases) seeDevice(a.deviceId, a.ts);
  if (devices.size > 0) {
    await trx
      .insertInto('devices')
      .values(
        [...devices.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([device_id, d]) => ({ device_id, first_seen: date(d.first), last_seen: date(d.last) })),
      )
      .onConflict((oc) =>
        oc.column('device_id').doUpdateSet({
          first_seen: sql`least(devices.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(devices.last_seen, excluded.last_seen)`,
        }),
      )
      .execute();
  }

  if (pageviews.length > 0) await writePageviews(trx, pageviews, result, touched);

  if (links.length > 0) {
    const inserted = await trx
      .insertInto('identity_links')
      .values(
        links.map((l) => ({
          id: linkId(l.deviceId, l.userId, l.ts),
          device_id: l.deviceId,
          user_id: l.userId,
          linked_at: date(l.ts),
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    result.linksInserted += inserted.length;
    for (const l of links) touched.add(l.deviceId);
  }

  if (aliases.length > 0) {
    const unique = new Map<string, AliasRecord>();
    for (const a of aliases) {
      const key = `${a.deviceId}\u0000${a.aliasId}`;
      const prev = unique.get(key);
      if (!prev || a.ts < prev.ts) unique.set(key, a);
    }
    await trx
      .insertInto('device_aliases')
      .values(
        [...unique.values()].map((a) => ({
          device_id: a.deviceId,
          alias_id: a.aliasId,
          first_seen: date(a.ts),
        })),
      )
      .onConflict((oc) =>
        oc.columns(['device_id', 'alias_id']).doUpdateSet({
          first_seen: sql`least(device_aliases.first_seen, excluded.first_seen)`,
        }),
      )
      .execute();
  }
}

async function writePageviews(
  trx: Transaction<Database>,
  pageviews: readonly PageviewRecord[],
  result: BatchResult,
  touched: Set<string>,
): Promise<void> {
  const byId = new Map<string, PageviewRecord>();
  for (const p of pageviews) if (!byId.has(p.eventId)) byId.set(p.eventId, p);
  const inserted = await trx
    .insertInto('page_views')
    .values(
      [...byId.values()].map((p) => ({
        event_id: p.eventId,
        device_id: p.deviceId,
        user_id: p.userId,
        session_id: p.sessionId,
        url: p.url,
        referrer: p.referrer,
        client_ts: p.clientTs === null ? null : date(p.clientTs),
        server_ts: date(p.serverTs),
      })),
    )
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .execute();
  result.pageViewsInserted += inserted.length;

  // Sessions count only the rows this batch inserted: a redelivered page view adds nothing.
  const sessions = new Map<string, { record: PageviewRecord; first: number; last: number; count: number }>();
  for (const { event_id } of inserted) {
    const p = byId.get(event_id);
    if (!p?.sessionId || !p.deviceId) continue;
    const s = sessions.get(p.sessionId);
    if (s) {
      s.first = Math.min(s.first, p.serverTs);
      s.last = Math.max(s.last, p.serverTs);
      s.count++;
    } else sessions.set(p.sessionId, { record: p, first: p.serverTs, last: p.serverTs, count: 1 });
  }
  if (sessions.size === 0) return;
  await trx
    .insertInto('sessions')
    .values(
      [...sessions.entries()]
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
        })),
    )
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        first_seen: sql`least(sessions.first_seen, excluded.first_seen)`,
        last_seen: sql`greatest(sessions.last_seen, excluded.last_seen)`,
        page_views: sql`sessions.page_views + excluded.page_views`,
        visitor_hash: sql`coalesce(sessions.visitor_hash, excluded.visitor_hash)`,
        user_agent: sql`coalesce(sessions.user_agent, excluded.user_agent)`,
      }),
    )
    .execute();
  for (const s of sessions.values()) touched.add(s.record.deviceId!);
}

/** Removes everything persisted for the device (aliases in both directions). */
async function erase(trx: Transaction<Database>, record: EraseRecord): Promise<void> {
  const id = record.deviceId;
  await trx.deleteFrom('page_views').where('device_id', '=', id).execute();
  await trx.deleteFrom('sessions').where('device_id', '=', id).execute();
  await trx.deleteFrom('identity_links').where('device_id', '=', id).execute();
  await trx
    .deleteFrom('device_aliases')
    .where((eb) => eb.or([eb('device_id', '=', id), eb('alias_id', '=', id)]))
    .execute();
  await trx.deleteFrom('devices').where('device_id', '=', id).execute();
}

/** The ids among `userIds` erased in the last 30 days. */
async function erasedUsers(trx: Transaction<Database>, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await trx
    .selectFrom('erased_users')
    .select('user_id')
    .where('user_id', 'in', userIds)
    .where('erased_at', '>', sql<Date>`now() - make_interval(secs => ${TOMBSTONE_SECONDS})`)
    .execute();
  return new Set(rows.map((r) => r.user_id));
}

/**
 * Removes what is persisted for the user: links, the sessions converted to the user and their page
 * views, and the user's authenticated page views; records the tombstone. Devices are not removed here:
 * the ones no other user is linked to get their own `erase` records (see the admin user route).
 */
async function eraseUser(trx: Transaction<Database>, record: EraseUserRecord): Promise<void> {
  const id = record.userId;
  await trx
    .insertInto('erased_users')
    .values({ user_id: id, erased_at: date(record.ts) })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ erased_at: sql`greatest(erased_users.erased_at, excluded.erased_at)` }),
    )
    .execute();
  // Tombstones older than 30 days have done their work.
  await trx
    .deleteFrom('erased_users')
    .where('erased_at', '<=', sql<Date>`now() - make_interval(secs => ${TOMBSTONE_SECONDS})`)
    .execute();
  await trx
    .deleteFrom('page_views')
    .where('session_id', 'in', (eb) =>
      eb.selectFrom('sessions').select('id').where('converted_user_id', '=', id),
    )
    .execute();
  await trx.deleteFrom('page_views').where('user_id', '=', id).execute();
  await trx.deleteFrom('sessions').where('converted_user_id', '=', id).execute();
  await trx.deleteFrom('identity_links').where('user_id', '=', id).execute();
}
