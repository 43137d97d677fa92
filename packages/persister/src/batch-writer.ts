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
import type { QueueEntry } from '@devicelink/protocol';
import type { Kysely, Transaction } from 'kysely';
import { writeBoundaries } from './boundary-writes.js';
import { devicesNamed, keptRecords, orphanCandidates, usersNamed } from './chunk-records.js';
import { applyConversionRule } from './conversion-rule.js';
import { upsertDevices } from './device-writes.js';
import { writeEdges, writeRevocations, writeWithdrawals } from './edge-writes.js';
import {
  eraseDevice,
  erasedDevices,
  erasedUsers,
  eraseOrphanedDevices,
  eraseUser,
} from './erasure-writes.js';
import { writeLinks } from './link-writes.js';
import { ensurePageViewPartitions } from './page-view-partitions.js';
import { writePageviews } from './page-view-writes.js';
import { RollupWriter } from './rollup-writes.js';
import type { Database } from './schema.js';

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

/**
 * Writes one chunk of the pass (records between two erasures): first drops what erasures took (and
 * erases the devices an erased user leaves behind), then writes the device rows, page views with their
 * sessions, links and edges, and notes in `touched` the devices whose conversion may change.
 */
async function writeChunk(
  trx: Transaction<Database>,
  entries: readonly QueueEntry[],
  result: BatchResult,
  touched: Set<string>,
  rollups: RollupWriter,
): Promise<void> {
  const erased = await erasedUsers(trx, usersNamed(entries));
  for (const deviceId of await eraseOrphanedDevices(trx, orphanCandidates(entries, erased), rollups)) {
    touched.delete(deviceId);
    result.erased++;
  }
  const kept = keptRecords(entries, erased, await erasedDevices(trx, devicesNamed(entries)));
  await upsertDevices(trx, kept);
  if (kept.pageviews.length > 0) {
    const written = await writePageviews(trx, kept.pageviews, rollups);
    result.pageViewsInserted += written.inserted;
    for (const d of written.sessionDevices) touched.add(d);
  }
  result.linksInserted += await writeLinks(trx, kept.links);
  for (const l of kept.links) touched.add(l.deviceId);
  // Withdrawals first: an edge of this chunk made before one is not written (the order of arrival
  // does not matter either way, see edge-writes.ts).
  await writeWithdrawals(trx, kept.withdrawals);
  await writeEdges(trx, kept.edges);
  await writeBoundaries(trx, kept.boundaries);
  await writeRevocations(trx, kept.unjoins);
  // A link converts the sessions of the ids tied to its device: an edge or a boundary written after
  // the link changes which, so the conversion rule runs for both ends.
  for (const r of [...kept.edges, ...kept.boundaries]) {
    if (r.kind === 'edge' && r.edge === 'join') continue;
    touched.add(r.deviceId);
    touched.add(r.otherId);
  }
}
