/**
 * The background persister: moves queued records into Postgres, in passes, over the partitions it owns
 * (`partition-ownership.ts`: leases in the store, split among the live persisters, fenced in Postgres,
 * renewed by its lease keeper every quarter of the lease time). Its parts: the pass loop (`persister-loop.ts`) reads every owned
 * partition at once; the commit (`pass-commit.ts`) writes everything a pass read in ONE transaction,
 * which checks the partitions' fences last, and acknowledges it, per partition and concurrently, only
 * after commit and only while the lease is held. While Postgres is down the same entries are retried
 * with capped exponential back-off, never acknowledged and never dropped; once failing would outlast a
 * lease time the persister releases its partitions (another persister that can commit takes them) and
 * joins again once Postgres answers. A data error (Postgres refuses a record itself) is not retried:
 * the pass is written again by halves of its partitions, then of the failing partition's entries, and
 * the entry that fails alone is dead-lettered and acknowledged.
 *
 * Two persisters never wait on each other in Postgres: each partition's rows are written by its one
 * owner, and no lock is shared between passes (the fence rows are the owner's own).
 */
import { LagProbe } from './lag-probe.js';
import { PartitionOwnership } from './partition-ownership.js';
import { PassCommitter } from './pass-commit.js';
import { PeriodicTask } from './periodic-task.js';
import { PersisterLoop } from './persister-loop.js';
import {
  type PersisterOptions,
  type PersisterStatus,
  type ResolvedPersisterOptions,
  resolvePersisterOptions,
} from './persister-options.js';

export type { PersisterOptions, PersisterStatus } from './persister-options.js';

/**
 * Runs the persist loop until `stop()`.
 *
 * @example
 * const persister = createPersister({ db, queue: store });
 * persister.start();
 * await persister.stop({ drainMs: 10_000 }); // persists what is queued, for at most 10 s
 */
export class Persister {
  readonly #o: ResolvedPersisterOptions;
  readonly #ownership: PartitionOwnership;
  /** The lease keeper: an ownership round every quarter of the lease time, beside the passes. */
  readonly #keeper: PeriodicTask;
  readonly #probe: LagProbe;
  readonly #committer: PassCommitter;
  readonly #loop: PersisterLoop;
  #postgresUp = true;
  #lastError: string | null = null;

  constructor(options: PersisterOptions) {
    this.#o = resolvePersisterOptions(options);
    const report = (err: unknown, context: string) => this.#report(err, context);
    this.#ownership = new PartitionOwnership({
      db: this.#o.db,
      queue: this.#o.queue,
      member: this.#o.consumer,
      leaseMs: this.#o.leaseMs,
      info: () => this.#info(),
      onError: (err, context) => {
        // A fence that cannot be taken means Postgres does not answer: say so, as a failed write does.
        if (context === 'leases (fence)') this.#postgresUp = false;
        report(err, context);
      },
      onChange: (change) => this.#o.onOwnership?.(change),
    });
    this.#keeper = new PeriodicTask(this.#o.leaseMs / 4, () =>
      this.#ownership.tick().catch((err: unknown) => report(err, 'leases')),
    );
    this.#probe = new LagProbe(this.#o.queue, this.#o.lagProbeMs);
    this.#committer = new PassCommitter({
      ...this.#o,
      ownership: this.#ownership,
      report,
      postgres: (up) => {
        this.#postgresUp = up;
        if (up) this.#lastError = null;
      },
      pause: (ms) => this.#loop.pause(ms),
      stopping: () => this.#loop.stopping,
    });
    this.#loop = new PersisterLoop({
      options: this.#o,
      ownership: this.#ownership,
      keeper: this.#keeper,
      committer: this.#committer,
      report,
    });
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.#loop.started) return;
    this.#ownership.resume();
    this.#keeper.start();
    this.#loop.start();
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
    if (!this.#loop.started) {
      // Never started, or only driven by runOnce (tests): give back what runOnce took.
      await this.#ownership.releaseAll();
      return;
    }
    if (options.drainMs && options.drainMs > 0) await this.#loop.drain(options.drainMs);
    await Promise.all([this.#loop.halt(), this.#keeper.stop(), this.#probe.stop()]);
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

  /** Current state for readiness and metrics. */
  status(now = Date.now()): PersisterStatus {
    let oldest = this.#probe.oldest ?? Number.POSITIVE_INFINITY;
    for (const ts of this.#committer.inHand.values()) oldest = Math.min(oldest, ts);
    const partitions = this.#ownership.held(now);
    const lastPassAt = this.#loop.lastPassAt;
    return {
      running: this.#loop.running,
      postgresUp: this.#postgresUp,
      lagMs: Number.isFinite(oldest) ? Math.max(0, now - oldest) : 0,
      lastError: this.#lastError,
      member: this.#o.consumer,
      partitions,
      members: this.#ownership.members(),
      lastPassAt,
      stalled: partitions.length > 0 && lastPassAt !== null && now - lastPassAt > this.#o.stallMs,
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
   * One pass over every owned partition; resolves with the number of entries committed (see
   * `PersisterLoop.runOnce`). Exposed for tests.
   */
  runOnce(): Promise<number> {
    return this.#loop.runOnce();
  }

  #report(err: unknown, context: string): void {
    this.#lastError = err instanceof Error ? err.message : String(err);
    this.#o.onError?.(err, context);
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
