/**
 * The commit of one persister pass: everything the pass read is written in one transaction whose last
 * statement checks the partitions' fences, retried with back-off while Postgres fails transiently, and
 * acknowledged per partition only after the commit and only under the lease. A failure that is not
 * transient is about the entries: the pass is written piece by piece (`isolating-writer.ts`) and an
 * entry that fails alone is dead-lettered, unless more than the limit of one partition's entries do,
 * which halts that partition instead. A persister that cannot commit steps down within one lease.
 * The loop around it is `persister-loop.ts`.
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

/** A committed pass: the partitions to acknowledge and how many entries it wrote. */
interface CommittedPass {
  batches: PartitionBatch[];
  entries: number;
}

/**
 * The retries of one pass while Postgres fails: exponential back-off from 100 ms to `maxBackoffMs`,
 * until a persister that cannot commit should give its partitions to one that can, within one lease.
 */
class CommitRetry {
  readonly #leaseMs: number;
  readonly #maxBackoffMs: number;
  #backoff = 100;
  #failingSince: number | null = null;
  /** The longest failed attempt: a statement cut by statement_timeout takes that long to fail. */
  #longestAttempt = 0;

  constructor(leaseMs: number, maxBackoffMs: number) {
    this.#leaseMs = leaseMs;
    this.#maxBackoffMs = maxBackoffMs;
  }

  /**
   * Notes an attempt begun at `attemptStart` that failed just now; answers the pause before the next
   * one, or null to step down: as soon as another attempt as long as the longest so far would end past
   * a lease time of failing.
   */
  failed(attemptStart: number): number | null {
    const now = Date.now();
    this.#failingSince ??= attemptStart;
    this.#longestAttempt = Math.max(this.#longestAttempt, now - attemptStart);
    if (now - this.#failingSince + this.#longestAttempt >= this.#leaseMs) return null;
    const backoff = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.#maxBackoffMs);
    return backoff;
  }
}

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
    this.#holdInHand(passBatches);
    let committed: CommittedPass | null;
    try {
      committed = await this.#writeUntilCommitted(passBatches);
    } finally {
      this.inHand.clear();
    }
    if (!committed) return 0;
    await this.#acknowledge(committed.batches);
    return committed.entries;
  }

  /** Notes the oldest entry of each partition in hand, for the lag. */
  #holdInHand(batches: readonly PartitionBatch[]): void {
    for (const { partition, entries } of batches) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const e of entries) oldest = Math.min(oldest, recordTs(e));
      this.inHand.set(partition, oldest);
    }
  }

  /**
   * Attempts the pass until it commits; null when nothing of it is left this persister's, when it
   * stops while Postgres fails, or when it stepped down.
   */
  async #writeUntilCommitted(passBatches: PartitionBatch[]): Promise<CommittedPass | null> {
    const retry = new CommitRetry(this.#c.leaseMs, this.#c.maxBackoffMs);
    let batches = passBatches;
    for (;;) {
      const attemptStart = Date.now();
      batches = this.#dropExpired(batches);
      if (batches.length === 0) return null;
      try {
        return await this.#attempt(batches);
      } catch (err) {
        if (err instanceof PartitionsTakenError) {
          this.#c.report(err, 'leases (fence)');
          this.#c.ownership.lost(err.partitions);
          continue;
        }
        this.#c.postgres(false);
        this.#c.report(err, 'postgres');
        // Stopping while Postgres is down: leave the entries pending; the next owner takes them over.
        if (this.#c.stopping()) return null;
        const backoff = retry.failed(attemptStart);
        if (backoff === null) {
          await this.#c.ownership.stepDown();
          return null;
        }
        await this.#c.pause(backoff);
      }
    }
  }

  /** Drops the partitions whose lease ran out (this process was frozen, or could not renew): another's by now. */
  #dropExpired(batches: PartitionBatch[]): PartitionBatch[] {
    const expired = batches.filter((b) => !this.#c.ownership.valid(b.partition)).map((b) => b.partition);
    if (expired.length === 0) return batches;
    this.#c.ownership.lost(expired);
    return batches.filter((b) => !expired.includes(b.partition));
  }

  /**
   * One attempt: the pass in one transaction, or, when it fails for its entries, piece by piece.
   * Throws a transient failure or the fence's verdict.
   */
  async #attempt(batches: PartitionBatch[]): Promise<CommittedPass> {
    const fence = this.#fence(batches);
    let written: { batches: PartitionBatch[]; result: BatchResult };
    try {
      const result = await writePass(this.#c.db, batches, this.#c.lookbackDays, { beforeCommit: fence });
      written = { batches, result };
    } catch (err) {
      // Anything but a transient failure is about the entries (a value Postgres refuses, a record
      // the code cannot handle) and would fail the pass forever, stopping every partition in it:
      // write the pass piece by piece instead, dead-lettering the entries that fail alone.
      if (isTransientError(err) || err instanceof PartitionsTakenError) throw err;
      written = await this.#isolate(batches, fence);
    }
    const entries = written.batches.reduce((n, b) => n + b.entries.length, 0);
    for (const b of written.batches) this.halted.delete(b.partition);
    this.#c.postgres(true);
    this.#c.onBatch?.(written.result, entries);
    return { batches: written.batches, entries };
  }

  /**
   * Writes the pass piece by piece (`isolating-writer.ts`); dead-letters the entries that failed alone
   * and leaves out the partitions halted by the dead-letter limit.
   */
  async #isolate(
    batches: PartitionBatch[],
    fence: (trx: Transaction<Database>) => Promise<void>,
  ): Promise<{ batches: PartitionBatch[]; result: BatchResult }> {
    const isolated = await writeIsolating(this.#c.db, batches, {
      lookbackDays: this.#c.lookbackDays,
      beforeCommit: fence,
      maxFailures: this.#c.maxDeadLettersPerPartition,
    });
    for (const { entry, err } of isolated.failed) await this.#deadLetter(entry, err);
    return { batches: this.#haltPartitions(batches, isolated), result: isolated.result };
  }

  /**
   * Acknowledges each partition's entries under its lease, concurrently. A failed ack leaves the
   * entries pending with this consumer: the next pass reads them again (pending first) and rewrites
   * them idempotently. One refused for a lost lease is the new owner's.
   */
  async #acknowledge(batches: readonly PartitionBatch[]): Promise<void> {
    const acks = await Promise.allSettled(
      batches.map(({ partition, entries }) =>
        this.#c.queue.ack(
          partition,
          entries.map((e) => e.id),
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
