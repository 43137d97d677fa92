/**
 * The Postgres side of partition ownership: each partition's fence row carries the epoch of its
 * current owner (`partition_fences`). Taking a partition advances its epoch in a transaction of its
 * own; every pass transaction locks its partitions' fence rows last, just before commit, and commits
 * only if each still carries the epoch its writer took. A writer that lost a partition (its lease
 * expired while it was frozen, and another persister took it) therefore commits nothing of it, and a
 * takeover that commits while a pass is still open waits for that pass to end (its lock is held for
 * the last statement of the pass only), so the two never interleave.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/** Epochs by partition, as strings (Postgres `bigint`). */
export type Epochs = ReadonlyMap<number, string>;

/**
 * Advances the fences of `partitions` for `owner` and resolves with the new epochs: from now on only
 * a transaction that checks these epochs commits anything of these partitions.
 */
export async function advanceFences(
  db: Kysely<Database>,
  partitions: readonly number[],
  owner: string,
): Promise<Map<number, string>> {
  if (partitions.length === 0) return new Map();
  // In ascending order, so two persisters taking fences at once lock their rows in one order.
  const sorted = [...partitions].sort((a, b) => a - b);
  const { rows } = await sql<{ partition: number; epoch: string }>`
    insert into partition_fences (partition, epoch, owner, taken_at)
    values ${sql.join(sorted.map((p) => sql`(${p}, 1, ${owner}, now())`))}
    on conflict (partition) do update
      set epoch = partition_fences.epoch + 1, owner = excluded.owner, taken_at = excluded.taken_at
    returning partition, epoch::text as epoch`.execute(db);
  return new Map(rows.map((r) => [Number(r.partition), r.epoch]));
}

/**
 * Inside a pass transaction: locks the fence rows of `epochs`' partitions and resolves with the
 * partitions whose epoch is no longer the one given (another persister took them since).
 */
export async function staleFences(trx: Transaction<Database>, epochs: Epochs): Promise<number[]> {
  if (epochs.size === 0) return [];
  const partitions = [...epochs.keys()].sort((a, b) => a - b);
  const { rows } = await sql<{ partition: number; epoch: string }>`
    select partition, epoch::text as epoch from partition_fences
    where partition in (${sql.join(partitions)})
    order by partition
    for no key update`.execute(trx);
  const current = new Map(rows.map((r) => [Number(r.partition), r.epoch]));
  return partitions.filter((p) => current.get(p) !== epochs.get(p));
}

/** Thrown inside a pass transaction (rolling it back) when some of its partitions were taken over. */
export class PartitionsTakenError extends Error {
  override name = 'PartitionsTakenError';
  readonly partitions: readonly number[];

  constructor(partitions: readonly number[]) {
    super(`partitions ${partitions.join(', ')} were taken over by another persister; nothing committed`);
    this.partitions = partitions;
  }
}
