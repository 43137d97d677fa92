/**
 * The pass loop of a persister (`persister.ts`): pass after pass over the partitions it owns, pausing
 * while they are empty, backing off while the queue fails, waiting in standby until Postgres answers
 * again, and ending at the first empty pass when it drains before a stop.
 *
 * A pass reads every owned partition at once (one command per partition, since Redis Cluster refuses
 * multi-slot reads; issued together, so ioredis pipelines them): first the persister's own pending
 * entries where it has any (after a takeover or a failed ack), then new ones. What it read is committed
 * as one (`pass-commit.ts`).
 */
import { isLeaseLostError, type QueueEntry } from '@devicelink/protocol';
import { sql } from 'kysely';
import type { PartitionBatch } from './batch-writer.js';
import type { HeldPartition, PartitionOwnership } from './partition-ownership.js';
import type { PassCommitter } from './pass-commit.js';
import type { PeriodicTask } from './periodic-task.js';
import type { ResolvedPersisterOptions } from './persister-options.js';
import { WakeablePause } from './wakeable-pause.js';

/** Longest pause between two passes that found nothing. */
const IDLE_CAP_MS = 400;

/** The first pause of a failing queue: one timed-out read (a busy Redis) costs a short one. */
const QUEUE_BACKOFF_MS = 100;

/** What the loop works with: the persister's options and parts. */
export interface LoopContext {
  options: ResolvedPersisterOptions;
  ownership: PartitionOwnership;
  /** The lease keeper (ownership rounds). */
  keeper: PeriodicTask;
  committer: PassCommitter;
  /** Reports an error (kept as the persister's last error). */
  report(err: unknown, context: string): void;
}

/** The passes of one persister: `start()`, then `drain(ms)` and/or `halt()`. */
export class PersisterLoop {
  readonly #c: LoopContext;
  readonly #pause = new WakeablePause();
  #passes: Promise<void> | null = null;
  #stopping = false;
  /** Set by `drain`: the loop ends at the first pass that finds nothing, or at this time. */
  #drainUntil: number | null = null;
  /** Partitions the last pass read. */
  #lastPassOwned = 0;
  /** When the last pass completed (committed, or found its partitions empty), Unix ms. */
  lastPassAt: number | null = null;

  constructor(context: LoopContext) {
    this.#c = context;
  }

  /** Whether `start()` was called and the loop has not been halted since. */
  get started(): boolean {
    return this.#passes !== null;
  }

  get running(): boolean {
    return this.#passes !== null && !this.#stopping;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  start(): void {
    this.#stopping = false;
    this.#drainUntil = null;
    this.#passes = this.#run();
  }

  /** Keeps persisting until a pass over every owned partition finds nothing new, for at most `ms`. */
  async drain(ms: number): Promise<void> {
    this.#drainUntil = Date.now() + ms;
    this.#pause.wake();
    const timer = setTimeout(() => this.#interrupt(), ms);
    try {
      await this.#passes;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops after the batch in hand. */
  async halt(): Promise<void> {
    this.#interrupt();
    await this.#passes;
    this.#passes = null;
  }

  #interrupt(): void {
    this.#stopping = true;
    this.#pause.wake();
  }

  /** A pause that a stop cuts short (the committer's back-off too). */
  pause(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return this.#pause.sleep(ms);
  }

  /**
   * One pass over every owned partition; resolves with the number of entries committed. Without a
   * running lease keeper (tests) it first runs one ownership round. A partition whose read failed is
   * left for the next pass; what the others read is still written, then the error is thrown.
   */
  async runOnce(): Promise<number> {
    const { ownership, committer } = this.#c;
    if (!this.#c.keeper.running) await ownership.tick();
    const now = Date.now();
    const owned = ownership.usable().filter((h) => (committer.halted.get(h.partition)?.until ?? 0) <= now);
    this.#lastPassOwned = owned.length;
    ownership.setInFlight(new Set(owned.map((h) => h.partition)));
    try {
      const reads = await Promise.allSettled(owned.map((h) => this.#read(h)));
      const { batches, failure } = this.#sortReads(owned, reads);
      const committed = batches.length > 0 ? await committer.commit(batches) : 0;
      if (failure) throw failure.reason;
      this.lastPassAt = Date.now();
      return committed;
    } finally {
      ownership.setInFlight(new Set());
    }
  }

  /** Own pending entries first where there may be some, then new ones. */
  async #read(held: HeldPartition): Promise<QueueEntry[]> {
    const { queue, consumer, batchSize } = this.#c.options;
    if (held.pendingFirst) {
      const pending = await queue.read(held.partition, consumer, batchSize, { pending: true, leased: true });
      if (pending.length > 0) return pending;
      held.pendingFirst = false;
    }
    return queue.read(held.partition, consumer, batchSize, { leased: true });
  }

  /**
   * The batches to commit out of the reads of `owned`, and the first failure that was not a lost lease
   * (a lost lease only gives the partition up).
   */
  #sortReads(
    owned: readonly HeldPartition[],
    reads: ReadonlyArray<PromiseSettledResult<QueueEntry[]>>,
  ): { batches: PartitionBatch[]; failure: { reason: unknown } | null } {
    const batches: PartitionBatch[] = [];
    let failure: { reason: unknown } | null = null;
    reads.forEach((read, i) => {
      const partition = owned[i]!.partition;
      if (read.status === 'rejected') {
        if (isLeaseLostError(read.reason)) this.#c.ownership.lost([partition]);
        else failure ??= { reason: read.reason };
      } else if (read.value.length > 0) batches.push({ partition, entries: read.value });
    });
    return { batches, failure };
  }

  async #run(): Promise<void> {
    const { idleMs, maxBackoffMs } = this.#c.options;
    // Idle passes back off from idleMs to IDLE_CAP_MS, so a quiet collector polls its partitions a few
    // times a second rather than twenty; the first entry found resets the pace.
    let idle = idleMs;
    // Queue errors back off up to maxBackoffMs: an outage settles there.
    let queueBackoff = QUEUE_BACKOFF_MS;
    while (!this.#stopping) {
      if (this.#c.ownership.standby) {
        await this.#rejoinWhenPostgresAnswers();
        continue;
      }
      let committed = 0;
      try {
        committed = await this.runOnce();
        queueBackoff = QUEUE_BACKOFF_MS;
      } catch (err) {
        this.#c.report(err, 'queue');
        await this.pause(queueBackoff);
        queueBackoff = Math.min(queueBackoff * 2, maxBackoffMs);
        continue;
      }
      if (committed > 0) {
        idle = idleMs;
        continue;
      }
      if (this.#drained()) return;
      await this.pause(idle);
      idle = Math.min(idle * 2, Math.max(IDLE_CAP_MS, idleMs));
    }
  }

  /**
   * After a pass that found nothing, while draining: everything queued before the stop is written, in
   * the partitions it owns; owning none (not yet taken, Postgres was down), it waits for them unless
   * other persisters are there to take them.
   */
  #drained(): boolean {
    return this.#drainUntil !== null && (this.#lastPassOwned > 0 || this.#c.ownership.members() > 1);
  }

  /** In standby: probes Postgres and joins the persisters again once it answers. */
  async #rejoinWhenPostgresAnswers(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#c.options.db);
      this.#c.ownership.resume();
      this.#c.keeper.wake();
    } catch (err) {
      this.#c.report(err, 'postgres');
      await this.pause(this.#c.options.maxBackoffMs);
    }
  }
}
