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
 * retried: the pass is written partition by partition, then entry by entry, and the entry that fails
 * alone is dead-lettered and acknowledged.
 *
 * Two persisters never wait on each other in Postgres: each partition's rows are written by its one
 * owner, and no lock is shared between passes (the fence rows are the owner's own).
 */
import { hostname } from 'node:os';
import {
  isLeaseLostError,
  type PartitionLeases,
  type QueueConsumer,
  type QueueEntry,
} from '@devicelink/fastify';
import { type Kysely, sql, type Transaction } from 'kysely';
import { type BatchResult, type PartitionBatch, writePass } from './batch-writer.js';
import { type IsolatedPass, writeIsolating } from './isolating-writer.js';
import { LagProbe } from './lag-probe.js';
import { PartitionsTakenError, staleFences } from './partition-fence.js';
import { type HeldPartition, PartitionOwnership } from './partition-ownership.js';
import type { Database } from './schema.js';
import { isTransientError } from './write-failures.js';

/** Longest pause between two passes that found nothing. */
const IDLE_CAP_MS = 400;
/** Options of {@link Persister}. */
export interface PersisterOptions {
  db: Kysely<Database>;
  /** The store's queue and partition leases (a store made by `createRedisStore` or `createMemoryStore`). */
  queue: QueueConsumer & PartitionLeases;
  /** How far back a link converts a device's sessions, days (default 30; the store's `conversionLookbackDays`). */
  lookbackDays?: number;
  /** Consumer name in the group and member name among the persisters; unique per process by default. */
  consumer?: string;
  /** Entries per read of one partition (default 500); a pass reads every owned partition. */
  batchSize?: number;
  /**
   * Lease time of a partition, ms (default 10,000): a dead or frozen persister's partitions move to a
   * live one within it. Leases are renewed every quarter of it; the Postgres sessions' timeouts
   * (`createDb`'s `lockTimeoutMs`, `idleInTransactionTimeoutMs`) should stay below it.
   */
  leaseMs?: number;
  /**
   * A persister owning partitions that completed no pass for this long reports itself stalled (default:
   * half `leaseMs`; after a whole lease time without a commit it gives its partitions up).
   */
  stallMs?: number;
  /** Pause when every partition was empty (default 50 ms). */
  idleMs?: number;
  /** Longest back-off while Postgres is down (default 5 s); also the pause of a halted partition. */
  maxBackoffMs?: number;
  /**
   * Entries of one partition that one pass may dead-letter (default 10). Past it the partition is
   * halted instead, reported and retried after a pause: that many bad records at once more likely mean
   * a bug than bad input, and a bug must not empty the queue into the dead letters.
   */
  maxDeadLettersPerPartition?: number;
  /** How often the oldest queued entry of every partition is probed for the lag (default 1 s). */
  lagProbeMs?: number;
  /** Called with each error (Postgres down, queue errors); the loop carries on. */
  onError?: (err: unknown, context: string) => void;
  /** Called after each committed pass, with the number of entries it wrote. */
  onBatch?: (result: BatchResult, entries: number) => void;
  /** Called when partitions are taken (their leases acquired, pending entries taken over) or lost. */
  onOwnership?: (change: { taken: number[]; lost: number[] }) => void;
}

/** What /readyz and /metrics report. */
export interface PersisterStatus {
  running: boolean;
  /** False after a failed write until the next commit. */
  postgresUp: boolean;
  /**
   * Now minus the queue time of the oldest entry not yet persisted, read or not, ms (0 when the queue
   * is empty). Unread entries are seen through the queue's `oldest` probe (every `lagProbeMs`).
   */
  lagMs: number;
  /** Message of the last error, if the last attempt failed. */
  lastError: string | null;
  /** This persister's member (and consumer) name. */
  member: string;
  /** Partitions it holds the lease of, ascending. */
  partitions: number[];
  /** Live persisters at its last heartbeat (itself included). */
  members: number;
  /** When its last pass completed (committed, or found its partitions empty), Unix ms; null before the first. */
  lastPassAt: number | null;
  /** Owns partitions but completed no pass for `stallMs` (Postgres failing, a pass stuck). */
  stalled: boolean;
  /** Gave up its partitions after failing to commit for a lease time; joins again once Postgres answers. */
  standby: boolean;
  /** Partitions held back because too many of their entries failed alone (see `maxDeadLettersPerPartition`). */
  halted: Array<{ partition: number; error: string }>;
}

const recordTs = (e: QueueEntry): number => (e.record.kind === 'pageview' ? e.record.serverTs : e.record.ts);

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
  /** Oldest server time among entries in hand, per partition. */
  readonly #inHand = new Map<number, number>();
  /** Partitions halted by the dead-letter limit, until when, and why. */
  readonly #halted = new Map<number, { until: number; error: string }>();

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
    for (const ts of this.#inHand.values()) oldest = Math.min(oldest, ts);
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
      halted: [...this.#halted].map(([partition, h]) => ({ partition, error: h.error })),
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
    const owned = this.#ownership.usable().filter((h) => (this.#halted.get(h.partition)?.until ?? 0) <= now);
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
      const committed = batches.length > 0 ? await this.#commit(batches) : 0;
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

  /**
   * Writes the pass, retrying with back-off until it commits, then acks every partition under its
   * lease. Partitions taken over meanwhile are dropped from the pass (their entries are the new
   * owner's). After failing for a lease time, gives up its partitions (see `stepDown`). Resolves with
   * the number of entries committed (0 when abandoned).
   */
  async #commit(passBatches: PartitionBatch[]): Promise<number> {
    let batches = passBatches;
    for (const { partition, entries: batch } of batches) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const e of batch) oldest = Math.min(oldest, recordTs(e));
      this.#inHand.set(partition, oldest);
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
        const expired = batches.filter((b) => !this.#ownership.valid(b.partition)).map((b) => b.partition);
        if (expired.length > 0) this.#ownership.lost(expired);
        batches = batches.filter((b) => !expired.includes(b.partition));
        if (batches.length === 0) return 0;
        const fence = this.#fence(batches);
        entries = batches.reduce((n, b) => n + b.entries.length, 0);
        try {
          let result: BatchResult;
          try {
            result = await writePass(this.#o.db, batches, this.#o.lookbackDays, { beforeCommit: fence });
          } catch (err) {
            // Anything but a transient failure is about the entries (a value Postgres refuses, a record
            // the code cannot handle) and would fail the pass forever, stopping every partition in it:
            // write the pass piece by piece instead, dead-lettering the entries that fail alone.
            if (isTransientError(err) || err instanceof PartitionsTakenError) throw err;
            const isolated = await writeIsolating(this.#o.db, batches, {
              lookbackDays: this.#o.lookbackDays,
              beforeCommit: fence,
              maxFailures: this.#o.maxDeadLettersPerPartition,
            });
            for (const { entry, err: cause } of isolated.failed) await this.#deadLetter(entry, cause);
            batches = this.#haltPartitions(batches, isolated);
            result = isolated.result;
          }
          entries = batches.reduce((n, b) => n + b.entries.length, 0);
          for (const b of batches) this.#halted.delete(b.partition);
          this.#postgresUp = true;
          this.#lastError = null;
          this.#o.onBatch?.(result, entries);
          break;
        } catch (err) {
          if (err instanceof PartitionsTakenError) {
            this.#report(err, 'leases (fence)');
            this.#ownership.lost(err.partitions);
            continue;
          }
          this.#postgresUp = false;
          this.#report(err, 'postgres');
          // Stopping while Postgres is down: leave the entries pending; the next owner takes them over.
          if (this.#stopping) return 0;
          failingSince ??= attemptStart;
          longestAttempt = Math.max(longestAttempt, Date.now() - attemptStart);
          // A persister that cannot commit gives its partitions to one that can, within one lease: as
          // soon as another attempt as long as the longest so far would end past it.
          if (Date.now() - failingSince + longestAttempt >= this.#o.leaseMs) {
            await this.#ownership.stepDown();
            return 0;
          }
          await this.#pause(backoff);
          backoff = Math.min(backoff * 2, this.#o.maxBackoffMs);
        }
      }
    } finally {
      this.#inHand.clear();
    }
    // A failed ack leaves the entries pending with this consumer: the next pass reads them again
    // (pending first) and rewrites them idempotently. One refused for a lost lease is the new owner's.
    const acks = await Promise.allSettled(
      batches.map(({ partition, entries: batch }) =>
        this.#o.queue.ack(
          partition,
          batch.map((e) => e.id),
          { owner: this.#o.consumer },
        ),
      ),
    );
    acks.forEach((a, i) => {
      if (a.status === 'fulfilled') return;
      const partition = batches[i]!.partition;
      if (isLeaseLostError(a.reason)) this.#ownership.lost([partition]);
      else {
        this.#report(a.reason, 'queue (ack)');
        const held = this.#ownership.valid(partition);
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
        const held = this.#ownership.valid(partition);
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
    const until = Date.now() + this.#o.maxBackoffMs;
    for (const { partition, error } of isolated.halted) {
      this.#halted.set(partition, { until, error: error.message });
      this.#report(error, `dead-letter limit (partition ${partition})`);
      const held = this.#ownership.valid(partition);
      if (held) held.pendingFirst = true;
    }
    const halted = new Set(isolated.halted.map((h) => h.partition));
    return batches.filter((b) => !halted.has(b.partition));
  }

  /** Reports an entry Postgres refused and keeps it in `dead_letters`; it is acknowledged after. */
  async #deadLetter(entry: QueueEntry, err: unknown): Promise<void> {
    this.#report(err, `dead-letter (partition ${entry.partition}, entry ${entry.id})`);
    // NUL is what Postgres text refuses: the JSON escapes it in the record; strip it from the message.
    const error = (err instanceof Error ? err.message : String(err)).replaceAll('\u0000', '');
    await this.#o.db
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
