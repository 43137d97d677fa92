/**
 * The edge steps of a batch (docs/protocol.md, Edges): edges are stored as observed and resolved
 * when read, so a revocation never rewrites stored results. Revocations (`unjoin`) and withdrawn
 * consent (`forget-edges`) are kept as times and compared with each edge's time: either may reach
 * Postgres before the edge it concerns (they travel through other partitions), and the outcome is the
 * same in any order.
 */
import type { EdgeRecord, ForgetEdgesRecord, UnjoinRecord } from '@devicelink/protocol';
import { sql, type Transaction } from 'kysely';
import { slices } from './insert-slices.js';
import type { Database } from './schema.js';

const date = (ms: number): Date => new Date(ms);

/** The latest record of each device id (by time). */
function latest<T extends { deviceId: string; ts: number }>(records: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const r of records) {
    const prev = byId.get(r.deviceId);
    if (!prev || r.ts > prev.ts) byId.set(r.deviceId, r);
  }
  return [...byId.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
}

/**
 * Withdrawn consent: every edge naming the device made at or before the withdrawal is deleted, in both
 * directions, and the withdrawal is kept so one arriving later is dropped.
 */
export async function writeWithdrawals(
  trx: Transaction<Database>,
  records: readonly ForgetEdgesRecord[],
): Promise<void> {
  for (const r of latest(records)) {
    await trx
      .insertInto('edge_withdrawals')
      .values({ device_id: r.deviceId, withdrawn_at: date(r.ts) })
      .onConflict((oc) =>
        oc
          .column('device_id')
          .doUpdateSet({ withdrawn_at: sql`greatest(edge_withdrawals.withdrawn_at, excluded.withdrawn_at)` }),
      )
      .execute();
    await trx
      .deleteFrom('device_edges')
      .where((eb) => eb.or([eb('device_id', '=', r.deviceId), eb('other_id', '=', r.deviceId)]))
      .where('first_seen', '<=', date(r.ts))
      .execute();
  }
}

/** Revocations: every fingerprint join to the device made at or before the time is revoked. */
export async function writeRevocations(
  trx: Transaction<Database>,
  records: readonly UnjoinRecord[],
): Promise<void> {
  const rows = latest(records).map((r) => ({ device_id: r.deviceId, revoked_until: date(r.ts) }));
  if (rows.length === 0) return;
  await trx
    .insertInto('fingerprint_revocations')
    .values(rows)
    .onConflict((oc) =>
      oc.column('device_id').doUpdateSet({
        revoked_until: sql`greatest(fingerprint_revocations.revoked_until, excluded.revoked_until)`,
      }),
    )
    .execute();
}

/** Inserts edges (the earliest time of a pair and kind wins), except those consent was withdrawn for. */
export async function writeEdges(trx: Transaction<Database>, edges: readonly EdgeRecord[]): Promise<void> {
  if (edges.length === 0) return;
  const ids = [...new Set(edges.flatMap((e) => [e.deviceId, e.otherId]))];
  const withdrawn = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 10_000) {
    const rows = await trx
      .selectFrom('edge_withdrawals')
      .select(['device_id', 'withdrawn_at'])
      .where('device_id', 'in', ids.slice(i, i + 10_000))
      .execute();
    for (const r of rows) withdrawn.set(r.device_id, r.withdrawn_at.getTime());
  }
  const gone = (id: string, ts: number) => (withdrawn.get(id) ?? Number.NEGATIVE_INFINITY) >= ts;
  const unique = new Map<string, EdgeRecord>();
  for (const e of edges) {
    if (e.deviceId === e.otherId || gone(e.deviceId, e.ts) || gone(e.otherId, e.ts)) continue;
    const key = `${e.deviceId}\u0000${e.otherId}\u0000${e.edge}`;
    const prev = unique.get(key);
    if (!prev || e.ts < prev.ts) unique.set(key, e);
  }
  const rows = [...unique.values()].map((e) => ({
    device_id: e.deviceId,
    other_id: e.otherId,
    kind: e.edge,
    first_seen: date(e.ts),
  }));
  for (const slice of slices(rows)) {
    await trx
      .insertInto('device_edges')
      .values(slice)
      .onConflict((oc) =>
        oc.columns(['device_id', 'other_id', 'kind']).doUpdateSet({
          first_seen: sql`least(device_edges.first_seen, excluded.first_seen)`,
        }),
      )
      .execute();
  }
}

/** Erasure: every edge naming the device, both ways, and its revocations and withdrawals. */
export async function eraseEdges(trx: Transaction<Database>, deviceId: string): Promise<void> {
  await trx
    .deleteFrom('device_edges')
    .where((eb) => eb.or([eb('device_id', '=', deviceId), eb('other_id', '=', deviceId)]))
    .execute();
  await trx.deleteFrom('fingerprint_revocations').where('device_id', '=', deviceId).execute();
  await trx.deleteFrom('edge_withdrawals').where('device_id', '=', deviceId).execute();
}
