/**
 * The background persister: moves queued records into Postgres, in passes, over the partitions it owns
 * (`partition-ownership.ts`: leases in the store, split among the live persisters, fenced in Postgres).
 * A pass reads every owned partition at once (one command per partition, since Redis Cluster refuses
 * multi-slot reads; issued together, so ioredis pipelines them): first the persister's own pending
 * entries where it has any (after a takeover or a failed ack), then new ones. Everything a pass read is
 * written in ONE transaction, which checks the partitions' fences last, and acknowledged, per partition
 * and concurrently, only after commit and only while the lease is held. While Postgres is down the same
 * entries are retried with capped exponential back-off, never acknowledged and never dropped; once
 * failing would outlast a lease time the persister releases its partitions (another persister that can commit takes
 * them) and joins again once Postgres answers. A data error (Postgres refuses a record itself) is not
 * retried: the pass is written again by halves of its partitions, then of the failing partition's
 * entries, and the entry that fails alone is dead-lettered and acknowledged.
 *
 * Two persisters never wait on each other in Postgres: each partition's rows are written by its one
 * owner, and no lock is shared between passes (the fence rows are the owner's own).
 */
import { hostname } from 'node:os';
import { isLeaseLostError, type QueueConsumer } from '@devicelink/protocol';
import { sql } from 'kysely';
import type { PartitionBatch } from './batch-writer.js';
import { LagProbe } from './lag-probe.js';
import { type HeldPartition, PartitionOwnership } from './partition-ownership.js';
import { PassCommitter } from './pass-commit.js';
import type { PersisterOptions, PersisterStatus } from './persister-options.js';

export type { PersisterOptions, PersisterStatus } from './persister-options.js';

/** Longest pause between two passes that found nothing. */
const IDLE_CAP_MS = 400;
type Resolved = Required<Omit<PersisterOptions, 'onError' | 'onBatch' | 'onOwnership' | 'stallMs'>> &
  Pick<PersisterOptions, 'onError' | 'onBatch' | 'onOwnership'> & { stallMs: number };

/**
 * Runs the persist loop until `stop()`.
 *
 * @example
 * const persister = createPersister({ db, queue: store });
 * persister.start();
 * await persister.stop({ drainMs: 10_000 }); // persists what is queued, for at most 10 s
 */
export class Persister {
  readonly #o: Resolved;
  readonly #ownership: PartitionOwnership;
  readonly #probe: LagProbe;
  #loop: Promise<void> | null = null;
  #keeper: Promise<void> | null = null;
  #stopping = false;
  /** Set by `stop({ drainMs })`: the loop ends at the first pass that finds nothing, or at this time. */
  #drainUntil: number | null = null;
  #wake: (() => void) | null = null;
  #keeperWake: (() => void) | null = null;
  #postgresUp = true;
  #lastError: string | null = null;
  #lastPassAt: number | null = null;
  /** Partitions the last pass read. */
  #lastPassOwned = 0;
  readonly #committer: PassCommitter;

  constructor(options: PersisterOptions) {
    const leaseMs = options.leaseMs ?? 10_000;
    this.#o = {
      consumer: `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      batchSize: 500,
      leaseMs,
      idleMs: 50,
      maxBackoffMs: 5_000,
      maxDeadLettersPerPartition: 10,
      lagProbeMs: 1_000,
      lookbackDays: 30,
      ...options,
      stallMs: options.stallMs ?? leaseMs / 2,
    };
    this.#ownership = new PartitionOwnership({
      db: this.#o.db,
      queue: this.#o.queue,
      member: this.#o.consumer,
      leaseMs,
      info: () => this.#info(),
      onError: (err, context) => {
        // A fence that cannot be taken means Postgres does not answer: say so, as a failed write does.
        if (context === 'leases (fence)') this.#postgresUp = false;
        this.#report(err, context);
      },
      onChange: (change) => this.#o.onOwnership?.(change),
    });
    this.#probe = new LagProbe(this.#o.queue, this.#o.lagProbeMs);
    this.#committer = new PassCommitter({
      ...this.#o,
      ownership: this.#ownership,
      report: (err, context) => this.#report(err, context),
      postgres: (up) => {
        this.#postgresUp = up;
        if (up) this.#lastError = null;
      },
      pause: (ms) => this.#pause(ms),
      stopping: () => this.#stopping,
    });
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#drainUntil = null;
    this.#ownership.resume();
    this.#keeper = this.#keep();
    this.#loop = this.#run();
    this.#probe.start();
  }

  /**
   * Stops the loop. With `drainMs`, first keeps persisting until a pass over every owned partition
   * finds nothing new (what was queued before the call is written) or `drainMs` passes; without it,
   * stops after the batch in hand. Then releases its leases (the other persisters take its partitions
   * at their next tick) and leaves. A batch abandoned while Postgres is down stays pending: the next
   * owner of its partition takes it over.
   */
  async stop(options: { drainMs?: number } = {}): Promise<void> {
    if (!this.#loop) {
      // Never started, or only driven by runOnce (tests): give back what runOnce took.
      await this.#ownership.releaseAll();
      return;
    }
    if (options.drainMs && options.drainMs > 0) {
      this.#drainUntil = Date.now() + options.drainMs;
      this.#wake?.();
      const timer = setTimeout(() => this.#halt(), options.drainMs);
      try {
        await this.#loop;
      } finally {
        clearTimeout(timer);
      }
    }
    this.#halt();
    await Promise.all([this.#loop, this.#keeper, this.#probe.stop()]);
    this.#loop = null;
    this.#keeper = null;
    await this.#ownership.releaseAll();
    await this.#removeConsumer();
  }

  /**
   * After the last ack, leaves the consumer group of every partition where this consumer holds nothing
   * pending: each process has its own consumer name, and the names of stopped ones would pile up. One
   * still holding entries (abandoned while Postgres was down) is kept; the partition's next owner takes
   * them over and removes it.
   */
  async #removeConsumer(): Promise<void> {
    const { queue, consumer } = this.#o;
    const done = await Promise.allSettled(
      Array.from({ length: queue.partitions }, (_, p) => queue.removeConsumer(p, consumer)),
    );
    const failed = done.find((d) => d.status === 'rejected');
    if (failed) this.#report(failed.reason, 'queue (remove consumer)');
  }

  #halt(): void {
    this.#stopping = true;
    this.#wake?.();
    this.#keeperWake?.();
  }

  /** Current state for readiness and metrics. */
  status(now = Date.now()): PersisterStatus {
    let oldest = this.#probe.oldest ?? Number.POSITIVE_INFINITY;
    for (const ts of this.#committer.inHand.values()) oldest = Math.min(oldest, ts);
    const partitions = this.#ownership.held(now);
    return {
      running: this.#loop !== null && !this.#stopping,
      postgresUp: this.#postgresUp,
      lagMs: Number.isFinite(oldest) ? Math.max(0, now - oldest) : 0,
      lastError: this.#lastError,
      member: this.#o.consumer,
      partitions,
      members: this.#ownership.members(),
      lastPassAt: this.#lastPassAt,
      stalled: partitions.length > 0 && this.#lastPassAt !== null && now - this.#lastPassAt > this.#o.stallMs,
      standby: this.#ownership.standby,
      halted: [...this.#committer.halted].map(([partition, h]) => ({ partition, error: h.error })),
    };
  }

  /** What the heartbeat publishes for the collectors' /readyz (kept short: it is in every beat). */
  #info(): string {
    const s = this.status();
    return JSON.stringify({
      partitions: s.partitions.length,
      lastPassAt: s.lastPassAt,
      stalled: s.stalled,
      postgresUp: s.postgresUp,
      // Readers judge staleness themselves (a frozen persister publishes nothing new): its threshold.
      stallMs: this.#o.stallMs,
      halted: s.halted.map((h) => h.partition),
    });
  }

  /**
   * One pass over every owned partition; resolves with the number of entries committed. Without a
   * running loop (tests) it first runs one ownership round. A partition whose read failed is left for
   * the next pass; what the others read is still written, then the error is thrown. Exposed for tests.
   */
  async runOnce(): Promise<number> {
    if (!this.#keeper) await this.#ownership.tick();
    const { queue, consumer, batchSize } = this.#o;
    const now = Date.now();
    const owned = this.#ownership
      .usable()
      .filter((h) => (this.#committer.halted.get(h.partition)?.until ?? 0) <= now);
    this.#lastPassOwned = owned.length;
    this.#ownership.setInFlight(new Set(owned.map((h) => h.partition)));
    try {
      const reads = await Promise.allSettled(owned.map((h) => this.#read(h, queue, consumer, batchSize)));
      const batches: PartitionBatch[] = [];
      let failure: { reason: unknown } | null = null;
      reads.forEach((read, i) => {
        const partition = owned[i]!.partition;
        if (read.status === 'rejected') {
          if (isLeaseLostError(read.reason)) this.#ownership.lost([partition]);
          else failure ??= { reason: read.reason };
        } else if (read.value.length > 0) batches.push({ partition, entries: read.value });
      });
      const committed = batches.length > 0 ? await this.#committer.commit(batches) : 0;
      if (failure) throw (failure as { reason: unknown }).reason;
      this.#lastPassAt = Date.now();
      return committed;
    } finally {
      this.#ownership.setInFlight(new Set());
    }
  }

  /** Own pending entries first where there may be some, then new ones. */
  async #read(held: HeldPartition, queue: QueueConsumer, consumer: string, count: number) {
    if (held.pendingFirst) {
      const pending = await queue.read(held.partition, consumer, count, { pending: true, leased: true });
      if (pending.length > 0) return pending;
      held.pendingFirst = false;
    }
    return queue.read(held.partition, consumer, count, { leased: true });
  }

  /** The lease keeper: an ownership round every quarter of the lease time. */
  async #keep(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.#ownership.tick();
      } catch (err) {
        this.#report(err, 'leases');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.leaseMs / 4);
        this.#keeperWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #run(): Promise<void> {
    // Idle passes back off from idleMs to IDLE_CAP_MS, so a quiet collector polls its partitions a few
    // times a second rather than twenty; the first entry found resets the pace.
    let idle = this.#o.idleMs;
    // Queue errors back off from 100 ms: one timed-out read (a busy Redis) costs a short pause, an
    // outage settles at maxBackoffMs.
    let queueBackoff = 100;
    while (!this.#stopping) {
      if (this.#ownership.standby) {
        await this.#rejoinWhenPostgresAnswers();
        continue;
      }
      let committed = 0;
      try {
        committed = await this.runOnce();
        queueBackoff = 100;
      } catch (err) {
        this.#report(err, 'queue');
        await this.#pause(queueBackoff);
        queueBackoff = Math.min(queueBackoff * 2, this.#o.maxBackoffMs);
        continue;
      }
      if (committed === 0) {
        // Draining: a pass that found nothing means everything queued before stop() is written, in the
        // partitions it owns; owning none (not yet taken, Postgres was down), it waits for them unless
        // other persisters are there to take them.
        if (this.#drainUntil !== null && (this.#lastPassOwned > 0 || this.#ownership.members() > 1)) return;
        await this.#pause(idle);
        idle = Math.min(idle * 2, Math.max(IDLE_CAP_MS, this.#o.idleMs));
      } else {
        idle = this.#o.idleMs;
      }
    }
  }

  /** In standby: probes Postgres and joins the persisters again once it answers. */
  async #rejoinWhenPostgresAnswers(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#o.db);
      this.#ownership.resume();
      this.#keeperWake?.();
    } catch (err) {
      this.#report(err, 'postgres');
      await this.#pause(this.#o.maxBackoffMs);
    }
  }

  #report(err: unknown, context: string): void {
    this.#lastError = err instanceof Error ? err.message : String(err);
    this.#o.onError?.(err, context);
  }

  #pause(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }
}

/**
 * A persister of `queue` (a store made by `@devicelink/fastify`'s `createRedisStore` on the same prefix
 * and partition count) into `db` (migrated with `migrate`). Call `start()`; `stop({ drainMs })` on
 * shutdown.
 *
 * @example
 * const persister = createPersister({ db, queue: store });
 * persister.start();
 * app.addHook('onClose', () => persister.stop({ drainMs: 10_000 }));
 */
export function createPersister(options: PersisterOptions): Persister {
  return new Persister(options);
}
