/**
 * The commit of one persister pass: everything the pass read is written in one transaction whose last
 * statement checks the partitions' fences, retried with back-off while Postgres fails transiently, and
 * acknowledged per partition only after the commit and only under the lease. A failure that is not
 * transient is about the entries: the pass is written piece by piece (`isolating-writer.ts`) and an
 * entry that fails alone is dead-lettered, unless more than the limit of one partition's entries do,
 * which halts that partition instead. A persister that cannot commit steps down within one lease.
 * The loop around it is `persister.ts`.
 */
import {
  isLeaseLostError,
  type PartitionLeases,
  type QueueConsumer,
  type QueueEntry,
} from '@devicelink/protocol';
import type { Kysely, Transaction } from 'kysely';
import { type BatchResult, type PartitionBatch, writePass } from './batch-writer.js';
import { type IsolatedPass, writeIsolating } from './isolating-writer.js';
import { PartitionsTakenError, staleFences } from './partition-fence.js';
import type { PartitionOwnership } from './partition-ownership.js';
import type { Database } from './schema.js';
import { isTransientError } from './write-failures.js';

/** What a {@link PassCommitter} works with: the persister's options and state it shares. */
export interface CommitContext {
  db: Kysely<Database>;
  queue: QueueConsumer & PartitionLeases;
  consumer: string;
  ownership: PartitionOwnership;
  leaseMs: number;
  lookbackDays: number;
  maxDeadLettersPerPartition: number;
  /** Longest back-off between two attempts; also the pause of a halted partition. */
  maxBackoffMs: number;
  onBatch?: ((result: BatchResult, entries: number) => void) | undefined;
  /** Reports an error (kept as the persister's last error). */
  report(err: unknown, context: string): void;
  /** Whether Postgres took the last attempt. */
  postgres(up: boolean): void;
  /** A pause the persister's stop cuts short. */
  pause(ms: number): Promise<void>;
  stopping(): boolean;
}

const recordTs = (e: QueueEntry): number => (e.record.kind === 'pageview' ? e.record.serverTs : e.record.ts);

/** Commits passes for one persister; keeps what is in hand and which partitions are halted. */
export class PassCommitter {
  readonly #c: CommitContext;
  /** Oldest server time among entries in hand, per partition. */
  readonly inHand = new Map<number, number>();
  /** Partitions halted by the dead-letter limit, until when, and why. */
  readonly halted = new Map<number, { until: number; error: string }>();

  constructor(context: CommitContext) {
    this.#c = context;
  }

  /**
   * Writes the pass, retrying with back-off until it commits, then acks every partition under its
   * lease. Partitions taken over meanwhile are dropped from the pass (their entries are the new
   * owner's). After failing for a lease time, gives up its partitions (see `stepDown`). Resolves with
   * the number of entries committed (0 when abandoned).
   */
  async commit(passBatches: PartitionBatch[]): Promise<number> {
    let batches = passBatches;
    for (const { partition, entries: batch } of batches) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const e of batch) oldest = Math.min(oldest, recordTs(e));
      this.inHand.set(partition, oldest);
    }
    let entries = 0;
    try {
      let backoff = 100;
      let failingSince: number | null = null;
      // The longest failed attempt: a statement cut by statement_timeout takes that long to fail.
      let longestAttempt = 0;
      for (;;) {
        const attemptStart = Date.now();
        // A lease that ran out (this process was frozen, or could not renew) is another's by now.
        const expired = batches.filter((b) => !this.#c.ownership.valid(b.partition)).map((b) => b.partition);
        if (expired.length > 0) this.#c.ownership.lost(expired);
        batches = batches.filter((b) => !expired.includes(b.partition));
        if (batches.length === 0) return 0;
        const fence = this.#fence(batches);
        entries = batches.reduce((n, b) => n + b.entries.length, 0);
        try {
          let result: BatchResult;
          try {
            result = await writePass(this.#c.db, batches, this.#c.lookbackDays, { beforeCommit: fence });
          } catch (err) {
            // Anything but a transient failure is about the entries (a value Postgres refuses, a record
            // the code cannot handle) and would fail the pass forever, stopping every partition in it:
            // write the pass piece by piece instead, dead-lettering the entries that fail alone.
            if (isTransientError(err) || err instanceof PartitionsTakenError) throw err;
            const isolated = await writeIsolating(this.#c.db, batches, {
              lookbackDays: this.#c.lookbackDays,
              beforeCommit: fence,
              maxFailures: this.#c.maxDeadLettersPerPartition,
            });
            for (const { entry, err: cause } of isolated.failed) await this.#deadLetter(entry, cause);
            batches = this.#haltPartitions(batches, isolated);
            result = isolated.result;
          }
          entries = batches.reduce((n, b) => n + b.entries.length, 0);
          for (const b of batches) this.halted.delete(b.partition);
          this.#c.postgres(true);
          this.#c.onBatch?.(result, entries);
          break;
        } catch (err) {
          if (err instanceof PartitionsTakenError) {
            this.#c.report(err, 'leases (fence)');
            this.#c.ownership.lost(err.partitions);
            continue;
          }
          this.#c.postgres(false);
          this.#c.report(err, 'postgres');
          // Stopping while Postgres is down: leave the entries pending; the next owner takes them over.
          if (this.#c.stopping()) return 0;
          failingSince ??= attemptStart;
          longestAttempt = Math.max(longestAttempt, Date.now() - attemptStart);
          // A persister that cannot commit gives its partitions to one that can, within one lease: as
          // soon as another attempt as long as the longest so far would end past it.
          if (Date.now() - failingSince + longestAttempt >= this.#c.leaseMs) {
            await this.#c.ownership.stepDown();
            return 0;
          }
          await this.#c.pause(backoff);
          backoff = Math.min(backoff * 2, this.#c.maxBackoffMs);
        }
      }
    } finally {
      this.inHand.clear();
    }
    // A failed ack leaves the entries pending with this consumer: the next pass reads them again
    // (pending first) and rewrites them idempotently. One refused for a lost lease is the new owner's.
    const acks = await Promise.allSettled(
      batches.map(({ partition, entries: batch }) =>
        this.#c.queue.ack(
          partition,
          batch.map((e) => e.id),
          { owner: this.#c.consumer },
        ),
      ),
    );
    acks.forEach((a, i) => {
      if (a.status === 'fulfilled') return;
      const partition = batches[i]!.partition;
      if (isLeaseLostError(a.reason)) this.#c.ownership.lost([partition]);
      else {
        this.#c.report(a.reason, 'queue (ack)');
        const held = this.#c.ownership.valid(partition);
        if (held) held.pendingFirst = true;
      }
    });
    return entries;
  }

  /**
   * The last statement of a pass transaction: locks the fences of its partitions and rolls the pass
   * back if another persister took any of them (or this one's lease ran out meanwhile).
   */
  #fence(batches: readonly PartitionBatch[]): (trx: Transaction<Database>) => Promise<void> {
    return async (trx) => {
      const epochs = new Map<number, string>();
      const expired: number[] = [];
      for (const { partition } of batches) {
        const held = this.#c.ownership.valid(partition);
        if (held) epochs.set(partition, held.epoch);
        else expired.push(partition);
      }
      const stale = [...expired, ...(await staleFences(trx, epochs))];
      if (stale.length > 0) throw new PartitionsTakenError(stale.sort((a, b) => a - b));
    };
  }

  /**
   * Leaves out of the acknowledgement the partitions whose isolation was halted (too many entries
   * failing alone): their entries stay pending with this consumer, and the partition is not read again
   * before `haltMs` (then pending first), so a bug costs one isolation per pause, not one per pass.
   */
  #haltPartitions(batches: PartitionBatch[], isolated: IsolatedPass): PartitionBatch[] {
    if (isolated.halted.length === 0) return batches;
    const until = Date.now() + this.#c.maxBackoffMs;
    for (const { partition, error } of isolated.halted) {
      this.halted.set(partition, { until, error: error.message });
      this.#c.report(error, `dead-letter limit (partition ${partition})`);
      const held = this.#c.ownership.valid(partition);
      if (held) held.pendingFirst = true;
    }
    const halted = new Set(isolated.halted.map((h) => h.partition));
    return batches.filter((b) => !halted.has(b.partition));
  }

  /** Reports an entry Postgres refused and keeps it in `dead_letters`; it is acknowledged after. */
  async #deadLetter(entry: QueueEntry, err: unknown): Promise<void> {
    this.#c.report(err, `dead-letter (partition ${entry.partition}, entry ${entry.id})`);
    // NUL is what Postgres text refuses: the JSON escapes it in the record; strip it from the message.
    const error = (err instanceof Error ? err.message : String(err)).replaceAll('\u0000', '');
    await this.#c.db
      .insertInto('dead_letters')
      .values({
        partition: entry.partition,
        entry_id: entry.id,
        error,
        record: JSON.stringify(entry.record),
        failed_at: new Date(),
      })
      .onConflict((oc) => oc.columns(['partition', 'entry_id']).doNothing())
      .execute();
  }
}
