/**
 * Writes a pass whose one transaction failed for a reason other than a transient one (a value Postgres
 * refuses, a record the code cannot handle): its partitions by halves down to each partition that fails
 * alone, then, within such a partition, its entries by halves in queue order down to the single entries
 * that fail alone. A poisoned entry among n entries of p partitions costs about 2·log2(p) + 2·log2(n/p)
 * transactions (halves known to fail are not written again), and every clean entry of the pass commits
 * in it: most of them in the few large halves that succeed (writing each of 64 partitions alone cost 64
 * transactions, measured as the larger part of the delay a poisoned entry added to the others).
 *
 * An entry is "failed alone" only while Postgres answers (a probe after each such failure): a lost
 * connection is thrown, and the persister retries the whole pass later (what committed meanwhile is
 * rewritten idempotently). A partition with more than `maxFailures` entries failing alone is halted
 * instead: nothing of it is dead-lettered or acknowledged, since so many bad records more likely mean a
 * bug or a schema drift than bad input (the queue must not empty into the dead letters).
 */
import type { QueueEntry } from '@devicelink/protocol';
import { type Kysely, sql, type Transaction } from 'kysely';
import { type BatchResult, type PartitionBatch, writePass } from './batch-writer.js';
import { PartitionsTakenError } from './partition-fence.js';
import type { Database } from './schema.js';
import { DeadLetterLimitError, isTransientError } from './write-failures.js';

/** An entry that failed alone, with its error. */
export interface FailedEntry {
  entry: QueueEntry;
  err: unknown;
}

/** What {@link writeIsolating} did. */
export interface IsolatedPass {
  /** What the committed pieces wrote. */
  result: BatchResult;
  /** Entries that failed alone in partitions that were not halted: to dead-letter, then acknowledge. */
  failed: FailedEntry[];
  /** Partitions with more than `maxFailures` failing entries: left pending, nothing acknowledged. */
  halted: Array<{ partition: number; error: DeadLetterLimitError }>;
  /** Transactions attempted, committed or not. */
  writes: number;
}

/** Options of {@link writeIsolating}. */
export interface IsolatingOptions {
  lookbackDays: number;
  beforeCommit: (trx: Transaction<Database>) => Promise<void>;
  /** Entries of one partition that may fail alone before it is halted instead. */
  maxFailures: number;
}

/**
 * Writes `batches`, which failed written together, piece by piece; see the file comment. Transient
 * failures are thrown.
 */
export async function writeIsolating(
  db: Kysely<Database>,
  batches: readonly PartitionBatch[],
  options: IsolatingOptions,
): Promise<IsolatedPass> {
  const pass: IsolatedPass = { result: emptyResult(), failed: [], halted: [], writes: 0 };
  const write = async (pieces: readonly PartitionBatch[]) => {
    pass.writes++;
    const r = await writePass(db, pieces, options.lookbackDays, { beforeCommit: options.beforeCommit });
    for (const k of Object.keys(pass.result) as (keyof BatchResult)[]) pass.result[k] += r[k];
  };

  /** One partition known to fail as a whole: its entries by halves. */
  const isolateEntries = async ({ partition, entries }: PartitionBatch) => {
    const failed: FailedEntry[] = [];
    try {
      await bisect(
        entries,
        true,
        (piece) => write([{ partition, entries: piece }]),
        async (entry, err) => {
          // Failed alone, unless Postgres itself is gone: the probe throws then, and the pass is retried.
          await sql`select 1`.execute(db);
          failed.push({ entry, err });
          if (failed.length > options.maxFailures) {
            throw new DeadLetterLimitError(failed.length, options.maxFailures, { cause: err });
          }
        },
      );
      pass.failed.push(...failed);
    } catch (err) {
      if (!(err instanceof DeadLetterLimitError)) throw err;
      pass.halted.push({ partition, error: err });
    }
  };

  /** Partitions by halves; `known` says the group already failed written whole. */
  const isolatePartitions = async (group: readonly PartitionBatch[], known: boolean): Promise<void> => {
    if (group.length === 0) return;
    if (!known) {
      try {
        await write(group);
        return;
      } catch (err) {
        throwIfNotAboutEntries(err);
      }
    }
    if (group.length === 1) return isolateEntries(group[0]!);
    const half = Math.ceil(group.length / 2);
    await isolatePartitions(group.slice(0, half), false);
    await isolatePartitions(group.slice(half), false);
  };

  await isolatePartitions(
    batches.filter((b) => b.entries.length > 0),
    true,
  );
  return pass;
}

/** The fence's verdict (partitions taken over) and transient failures are the pass's, never an entry's. */
function throwIfNotAboutEntries(err: unknown): void {
  if (isTransientError(err) || err instanceof PartitionsTakenError) throw err;
}

/**
 * Writes `entries` whole (unless `known` to fail so), else each half in order, recursively; `onAlone`
 * gets each single entry that fails.
 */
async function bisect(
  entries: readonly QueueEntry[],
  known: boolean,
  write: (piece: readonly QueueEntry[]) => Promise<void>,
  onAlone: (entry: QueueEntry, err: unknown) => Promise<void>,
): Promise<void> {
  if (entries.length === 0) return;
  // A single entry is written even when known to fail: its own error is what is kept.
  if (!known || entries.length === 1) {
    try {
      await write(entries);
      return;
    } catch (err) {
      throwIfNotAboutEntries(err);
      if (entries.length === 1) return onAlone(entries[0]!, err);
    }
  }
  const half = Math.ceil(entries.length / 2);
  await bisect(entries.slice(0, half), false, write, onAlone);
  await bisect(entries.slice(half), false, write, onAlone);
}

const emptyResult = (): BatchResult => ({
  pageViewsInserted: 0,
  linksInserted: 0,
  sessionsConverted: 0,
  erased: 0,
  usersErased: 0,
});
