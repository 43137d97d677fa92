/**
 * Writes the queue entries of a persister pass to Postgres in ONE transaction. Every step is
 * idempotent, so an entry delivered again (reclaimed after a crash between commit and acknowledge)
 * changes nothing: page views are inserted once by event id and only the rows actually inserted count
 * towards their session; links carry a deterministic id; edges, revocations and devices are upserts;
 * erasures delete.
 *
 * Erasure (docs/protocol.md, Erasure): an `erase` record removes a device, an `erase-user` record
 * the user's links, the sessions and page views converted to the user and the user's own page views,
 * and leaves the user id in `erased_users` for 30 days so that links and page views of the user still
 * queued in other partitions are dropped instead of written back. An erased device likewise stays in
 * `erased_devices` for 30 days: its page views, links and edges written after the erasure (reclaimed
 * from a dead consumer's pending list, which is read after newer entries) are dropped.
 */
import type {
  BoundaryRecord,
  EdgeRecord,
  ForgetEdgesRecord,
  LinkRecord,
  PageviewRecord,
  QueueEntry,
  UnjoinRecord,
} from '@devicelink/protocol';
import { type Kysely, sql, type Transaction } from 'kysely';
import { writeBoundaries } from './boundary-writes.js';
import { applyConversionRule } from './conversion-rule.js';
import { writeEdges, writeRevocations, writeWithdrawals } from './edge-writes.js';
import { eraseDevice, erasedDevices, erasedUsers, eraseUser } from './erasure-writes.js';
import { linkId } from './link-id.js';
import { ensurePageViewPartitions, pageViewIdTime } from './page-view-partitions.js';
import { RollupWriter } from './rollup-writes.js';
import type { Database } from './schema.js';
import { trafficClassOf, trafficReasonOf, writeSessions } from './session-writes.js';

/** What a committed batch did. */
export interface BatchResult {
  pageViewsInserted: number;
  linksInserted: number;
  sessionsConverted: number;
  erased: number;
  usersErased: number;
}

/** The entries of one partition in a pass, in queue order. */
export interface PartitionBatch {
  partition: number;
  entries: readonly QueueEntry[];
}

/** Options of {@link writePass}. */
export interface WritePassOptions {
  /**
   * Runs last inside the transaction; throwing rolls the pass back. The persister checks its
   * partitions' fences here: each partition is written by its one owner (partition leases), so no
   * lock is taken between two persisters' passes.
   */
  beforeCommit?: (trx: Transaction<Database>) => Promise<void>;
}

/** Rows per multi-row insert: a pass may hold tens of thousands, Postgres takes 65,535 parameters. */
const ROWS_PER_INSERT = 2_000;

const date = (ms: number): Date => new Date(ms);

/**
 * Writes the entries of several partitions and applies the conversion rule to the devices they touch,
 * in one transaction. Each partition's entries keep their queue order: its erasure records split it
 * into segments, and the passes's segments are written round by round (every partition's first segment
 * together, then the erasures ending them, then every second segment…). Partitions were never ordered
 * among each other, so any such interleaving is one the persister could have produced before.
 */
export async function writePass(
  db: Kysely<Database>,
  batches: readonly PartitionBatch[],
  lookbackDays: number,
  options: WritePassOptions = {},
): Promise<BatchResult> {
  const result: BatchResult = {
    pageViewsInserted: 0,
    linksInserted: 0,
    sessionsConverted: 0,
    erased: 0,
    usersErased: 0,
  };
  const ordered = batches.filter((b) => b.entries.length > 0).sort((a, b) => a.partition - b.partition);
  if (ordered.length === 0) return result;
  const segmented = ordered.map((b) => segments(b.entries));
  const rounds = Math.max(...segmented.map((s) => s.length));
  // This month's and the next months' page-view partitions, once a month, in a transaction of its own.
  // Its failure is not the batch's: page views without their month land in the default partition and
  // move into the month when it is created (a minute later, or by the next persister).
  await ensurePageViewPartitions(db).catch(() => {});
  return db.transaction().execute(async (trx) => {
    // Roll-ups of this pass go to rows keyed by its lowest partition: partitions are leased to one
    // persister at a time (fenced at commit), so two passes never update the same roll-up row.
    const rollups = new RollupWriter(trx, ordered[0]!.partition);
    const touched = new Set<string>();
    for (let round = 0; round < rounds; round++) {
      const chunk: QueueEntry[] = [];
      const barriers: QueueEntry[] = [];
      for (const parts of segmented) {
        const segment = parts[round];
        if (!segment) continue;
        chunk.push(...segment.chunk);
        if (segment.barrier) barriers.push(segment.barrier);
      }
      await writeChunk(trx, chunk, result, touched, rollups);
      // Sessions written so far must carry their conversion before a user's are removed: a session
      // queued ahead of the erasure and converted to the user goes with it.
      if (barriers.some((b) => b.record.kind === 'erase-user')) {
        await convert(trx, touched, result, lookbackDays);
      }
      for (const { record } of barriers) {
        if (record.kind === 'erase') {
          await eraseDevice(trx, record, rollups);
          touched.delete(record.deviceId);
          result.erased++;
        } else if (record.kind === 'erase-user') {
          await eraseUser(trx, record, rollups);
          result.usersErased++;
        }
      }
    }
    await convert(trx, touched, result, lookbackDays);
    await rollups.reconcileDevices([...touched]);
    await options.beforeCommit?.(trx);
    return result;
  });
}

/** The conversion rule over the touched devices; the ids it converted through ties are touched too. */
async function convert(
  trx: Transaction<Database>,
  touched: Set<string>,
  result: BatchResult,
  lookbackDays: number,
): Promise<void> {
  const conversion = await applyConversionRule(trx, [...touched].sort(), lookbackDays);
  result.sessionsConverted += conversion.converted;
  for (const id of conversion.deviceIds) touched.add(id);
}

/** A run of records to write together, and the erasure record that ends it (none for the last). */
interface Segment {
  chunk: QueueEntry[];
  barrier: QueueEntry | null;
}

/** Splits one partition's entries at its erasure records. */
function segments(entries: readonly QueueEntry[]): Segment[] {
  const out: Segment[] = [];
  let chunk: QueueEntry[] = [];
  for (const entry of entries) {
    if (entry.record.kind === 'erase' || entry.record.kind === 'erase-user') {
      out.push({ chunk, barrier: entry });
      chunk = [];
    } else chunk.push(entry);
  }
  if (chunk.length > 0 || out.length === 0) out.push({ chunk, barrier: null });
  return out;
}

/** `rows` in slices of at most {@link ROWS_PER_INSERT}, in order. */
function slices<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) out.push(rows.slice(i, i + ROWS_PER_INSERT));
  return out;
}

async function writeChunk(
  trx: Transaction<Database>,
  entries: readonly QueueEntry[],
  result: BatchResult,
  touched: Set<string>,
  rollups: RollupWriter,
): Promise<void> {
  const pageviews: PageviewRecord[] = [];
  const links: LinkRecord[] = [];
  const edges: EdgeRecord[] = [];
  const boundaries: BoundaryRecord[] = [];
  const unjoins: UnjoinRecord[] = [];
  const withdrawals: ForgetEdgesRecord[] = [];
  const userIds = new Set<string>();
  for (const { record } of entries) {
    if (record.kind === 'pageview' || record.kind === 'link') {
      if (record.userId) userIds.add(record.userId);
    }
  }
  const erased = await erasedUsers(trx, [...userIds]);
  // An erased user's link still queued is dropped, not written back. If no other user is linked to
  // its device, the device is the user's: it is erased too (as the admin route does for the devices
  // it finds in Postgres), so its anonymous history does not outlive the user.
  const keptLinkDevices = new Set<string>();
  const orphans = new Map<string, string>();
  for (const { record } of entries) {
    if (record.kind !== 'link') continue;
    if (erased.has(record.userId)) {
      if (!orphans.has(record.deviceId)) orphans.set(record.deviceId, record.userId);
    } else keptLinkDevices.add(record.deviceId);
  }
  for (const d of keptLinkDevices) orphans.delete(d);
  for (const [deviceId, userId] of [...orphans].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const other = await trx
      .selectFrom('identity_links')
      .select('id')
      .where('device_id', '=', deviceId)
      .where('user_id', '<>', userId)
      .limit(1)
      .executeTakeFirst();
    if (other) continue;
    await eraseDevice(trx, { kind: 'erase', deviceId, ts: Date.now() }, rollups);
    touched.delete(deviceId);
    result.erased++;
  }
  // A device erased earlier (its `erase` record written before these entries, e.g. entries reclaimed
  // from a dead consumer after a restart) gets nothing back: no page view, link or edge.
  const deviceIds = new Set<string>();
  for (const { record } of entries) {
    if (record.kind === 'pageview' || record.kind === 'link') {
      if (record.deviceId) deviceIds.add(record.deviceId);
    } else if (record.kind === 'edge' || record.kind === 'boundary') {
      deviceIds.add(record.deviceId);
      deviceIds.add(record.otherId);
    } else if (record.kind === 'unjoin' || record.kind === 'forget-edges') {
      deviceIds.add(record.deviceId);
    }
  }
  const gone = await erasedDevices(trx, [...deviceIds]);
  for (const { record } of entries) {
    if (record.kind === 'pageview') {
      if (record.userId && erased.has(record.userId)) continue;
      if (record.deviceId && gone.has(record.deviceId)) continue;
      pageviews.push(record);
    } else if (record.kind === 'link') {
      if (!(erased.has(record.userId) || gone.has(record.deviceId))) links.push(record);
    } else if (record.kind === 'edge') {
      if (!(gone.has(record.deviceId) || gone.has(record.otherId))) edges.push(record);
    } else if (record.kind === 'boundary') {
      if (!(gone.has(record.deviceId) || gone.has(record.otherId))) boundaries.push(record);
    } else if (record.kind === 'unjoin') {
      if (!gone.has(record.deviceId)) unjoins.push(record);
    } else if (record.kind === 'forget-edges') {
      // A withdrawal also travels through the partitions of the ids the device shared edges with, so
      // it may reach Postgres after the device's erasure: nothing of an erased device comes back.
      if (!gone.has(record.deviceId)) withdrawals.push(record);
    }
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
  for (const e of edges) seeDevice(e.deviceId, e.ts);
  // Sorted, so concurrent passes lock device rows in one order.
  const deviceRows = [...devices.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([device_id, d]) => ({ device_id, first_seen: date(d.first), last_seen: date(d.last) }));
  for (const rows of slices(deviceRows)) {
    await trx
      .insertInto('devices')
      .values(rows)
      .onConflict((oc) =>
        oc.column('device_id').doUpdateSet({
          first_seen: sql`least(devices.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(devices.last_seen, excluded.last_seen)`,
        }),
      )
      .execute();
  }

  if (pageviews.length > 0) await writePageviews(trx, pageviews, result, touched, rollups);

  for (const rows of slices(links)) {
    const inserted = await trx
      .insertInto('identity_links')
      .values(
        rows.map((l) => ({
          id: linkId(l.deviceId, l.userId, l.ts),
          device_id: l.deviceId,
          user_id: l.userId,
          linked_at: date(l.ts),
          session_id: l.sessionId,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    result.linksInserted += inserted.length;
  }
  for (const l of links) touched.add(l.deviceId);

  // Withdrawals first: an edge of this chunk made before one is not written (the order of arrival
  // does not matter either way, see edge-writes.ts).
  await writeWithdrawals(trx, withdrawals);
  await writeEdges(trx, edges);
  await writeBoundaries(trx, boundaries);
  await writeRevocations(trx, unjoins);
  // A link converts the sessions of the ids tied to its device: an edge or a boundary written after
  // the link changes which, so the conversion rule runs for both ends.
  for (const r of [...edges, ...boundaries]) {
    if (r.kind === 'edge' && r.edge === 'join') continue;
    touched.add(r.deviceId);
    touched.add(r.otherId);
  }
}

/**
 * A page view's key as Postgres hands it back: a lone surrogate (ill-formed UTF-16) reaches Postgres as
 * U+FFFD through UTF-8, so the key is made of the well-formed form on both sides of the lookup.
 */
const pageviewKey = (deviceId: string | null, userId: string | null, eventId: string): string =>
  `${deviceId ?? ''}\u0000${userId ?? ''}\u0000${eventId}`.toWellFormed();

async function writePageviews(
  trx: Transaction<Database>,
  pageviews: readonly PageviewRecord[],
  result: BatchResult,
  touched: Set<string>,
  rollups: RollupWriter,
): Promise<void> {
  const byKey = new Map<string, PageviewRecord>();
  for (const p of pageviews) {
    const key = pageviewKey(p.deviceId, p.userId, p.eventId);
    if (!byKey.has(key)) byKey.set(key, p);
  }
  const inserted: PageviewRecord[] = [];
  for (const rows of slices([...byKey.values()])) {
    const done = await trx
      .insertInto('page_views')
      .values(
        rows.map((p) => ({
          event_id: p.eventId,
          device_id: p.deviceId,
          user_id: p.userId,
          session_id: p.sessionId,
          url: p.url,
          referrer: p.referrer,
          client_ts: p.clientTs === null ? null : date(p.clientTs),
          server_ts: date(p.serverTs),
          id_time: pageViewIdTime(p.eventId),
          traffic_class: trafficClassOf(p),
          traffic_reason: trafficReasonOf(p),
        })),
      )
      // The table's key (subject, event id, id_time): id_time follows from the event id, so a page view
      // delivered again, however late, meets its first row here.
      .onConflict((oc) => oc.columns(['device_id', 'user_id', 'event_id', 'id_time']).doNothing())
      .returning(['device_id', 'user_id', 'event_id'])
      .execute();
    for (const r of done) {
      const record = byKey.get(pageviewKey(r.device_id, r.user_id, r.event_id));
      if (record) inserted.push(record);
    }
  }
  result.pageViewsInserted += inserted.length;
  // Counted from the rows the insert returned, never re-read by event id: another subject's row may
  // carry the same id (the key is subject + id), and it is not this batch's to count.
  await rollups.pageViewsInserted(
    inserted.map((p) => ({
      serverTs: date(p.serverTs),
      userId: p.userId,
      url: p.url,
      referrer: p.referrer,
      trafficClass: trafficClassOf(p),
    })),
  );

  // Sessions count only the rows this batch inserted: a redelivered page view adds nothing.
  const devices = await writeSessions(trx, inserted, rollups);
  for (const d of devices) touched.add(d);
}
