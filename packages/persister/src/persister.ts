/**
 * The background persister: moves queued records into Postgres, in passes. A pass reads every
 * partition through the consumer group at once (one command per partition, since Redis Cluster refuses
 * multi-slot reads; issued together, so ioredis pipelines them), taking over what a dead consumer left
 * pending (`reclaim`) every half `reclaimIdleMs`. Everything a pass read is written in ONE transaction
 * and acknowledged, per partition and concurrently, only after commit; while Postgres is down the same
 * entries are retried with capped exponential back-off, never acknowledged and never dropped. A data
 * error (Postgres refuses a record itself) is not retried: the pass is written partition by partition,
 * then entry by entry, and the entry that fails alone is dead-lettered and acknowledged.
 */
import { hostname } from 'node:os';
import type { QueueConsumer, QueueEntry } from '@devicelink/fastify';
import type { Kysely } from 'kysely';
import { type BatchResult, type PartitionBatch, writePass } from './batch-writer.js';
import type { Database } from './schema.js';

/** Longest pause between two passes that found nothing. */
const IDLE_CAP_MS = 400;
/** Options of {@link Persister}. */
export interface PersisterOptions {
  db: Kysely<Database>;
  queue: QueueConsumer;
  /** How far back a link converts a device's sessions, days (default 30; the store's `conversionLookbackDays`). */
  lookbackDays?: number;
  /** Consumer name in the group; unique per process by default. */
  consumer?: string;
  /** Entries per read of one partition (default 500); a pass reads every partition. */
  batchSize?: number;
  /**
   * Pending entries idle this long are taken over from a dead consumer (default 30 s); the pending
   * lists are scanned on the first pass and then every half of this.
   */
  reclaimIdleMs?: number;
  /** Pause when every partition was empty (default 50 ms). */
  idleMs?: number;
  /** Longest back-off while Postgres is down (default 5 s). */
  maxBackoffMs?: number;
  /** How often the oldest queued entry of every partition is probed for the lag (default 1 s). */
  lagProbeMs?: number;
  /** Called with each error (Postgres down, queue errors); the loop carries on. */
  onError?: (err: unknown, context: string) => void;
  /** Called after each committed pass, with the number of entries it wrote. */
  onBatch?: (result: BatchResult, entries: number) => void;
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
}

/**
 * Whether Postgres refused the data itself (SQLSTATE class 22, data exception, or 23, integrity
 * constraint violation) rather than being unreachable: retrying the same write cannot succeed.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

const recordTs = (e: QueueEntry): number => (e.record.kind === 'pageview' ? e.record.serverTs : e.record.ts);

/**
 * Runs the persist loop until `stop()`.
 *
 * @example
 * const persister = createPersister({ db, queue: store });
 * persister.start();
 * await persister.stop({ drainMs: 10_000 }); // persists what is queued, for at most 10 s
 */
export class Persister {
  readonly #o: Required<Omit<PersisterOptions, 'onError' | 'onBatch'>> &
    Pick<PersisterOptions, 'onError' | 'onBatch'>;
  #loop: Promise<void> | null = null;
  #probe: Promise<void> | null = null;
  #stopping = false;
  /** Set by `stop({ drainMs })`: the loop ends at the first pass that finds nothing, or at this time. */
  #drainUntil: number | null = null;
  /** Oldest queue time among all partitions at the last probe (null: empty or not probed). */
  #queuedOldest: number | null = null;
  #wake: (() => void) | null = null;
  #probeWake: (() => void) | null = null;
  #postgresUp = true;
  #lastError: string | null = null;
  /** Oldest server time among entries in hand, per partition. */
  readonly #inHand = new Map<number, number>();
  /** When the next pass scans the pending lists (0: the first pass does). */
  #reclaimAt = 0;

  constructor(options: PersisterOptions) {
    this.#o = {
      consumer: `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      batchSize: 500,
      reclaimIdleMs: 30_000,
      idleMs: 50,
      maxBackoffMs: 5_000,
      lagProbeMs: 1_000,
      lookbackDays: 30,
      ...options,
    };
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#drainUntil = null;
    this.#loop = this.#run();
    this.#probe = this.#probeLoop();
  }

  /**
   * Stops the loop. With `drainMs`, first keeps persisting until a pass over every partition finds
   * nothing new (what was queued before the call is written) or `drainMs` passes; without it, stops
   * after the batch in hand. A batch abandoned while Postgres is down stays pending for a reclaim.
   */
  async stop(options: { drainMs?: number } = {}): Promise<void> {
    if (!this.#loop) return;
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
    await Promise.all([this.#loop, this.#probe]);
    this.#loop = null;
    this.#probe = null;
    await this.#removeConsumer();
  }

  /**
   * After the last ack, leaves the consumer group of every partition where this consumer holds nothing
   * pending: each process has its own consumer name, and the names of stopped ones would pile up. One
   * still holding entries (abandoned while Postgres was down) is kept, so they can be reclaimed.
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
    this.#probeWake?.();
  }

  /** Current state for readiness and metrics. */
  status(): PersisterStatus {
    let oldest = this.#queuedOldest ?? Number.POSITIVE_INFINITY;
    for (const ts of this.#inHand.values()) oldest = Math.min(oldest, ts);
    return {
      running: this.#loop !== null && !this.#stopping,
      postgresUp: this.#postgresUp,
      lagMs: Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) : 0,
      lastError: this.#lastError,
    };
  }

  /**
   * One pass over every partition; resolves with the number of entries committed. A partition whose
   * read failed is left for the next pass; what the others read is still written, then the error is
   * thrown. Exposed for tests.
   */
  async runOnce(): Promise<number> {
    const { queue, consumer, batchSize, reclaimIdleMs } = this.#o;
    const now = Date.now();
    const reclaim = now >= this.#reclaimAt;
    if (reclaim) this.#reclaimAt = now + reclaimIdleMs / 2;
    const reads = await Promise.allSettled(
      Array.from({ length: queue.partitions }, async (_, partition) => {
        const reclaimed = reclaim ? await queue.reclaim(partition, consumer, reclaimIdleMs, batchSize) : [];
        // Reclaimed entries are older than any unread one: they go first, alone.
        return reclaimed.length > 0 ? reclaimed : queue.read(partition, consumer, batchSize);
      }),
    );
    const batches: PartitionBatch[] = [];
    let failure: { reason: unknown } | null = null;
    reads.forEach((read, partition) => {
      if (read.status === 'rejected') failure ??= { reason: read.reason };
      else if (read.value.length > 0) batches.push({ partition, entries: read.value });
    });
    const committed = batches.length > 0 ? await this.#commit(batches) : 0;
    if (failure) throw (failure as { reason: unknown }).reason;
    return committed;
  }

  async #run(): Promise<void> {
    // Idle passes back off from idleMs to IDLE_CAP_MS, so a quiet collector polls its partitions a few
    // times a second rather than twenty; the first entry found resets the pace.
    let idle = this.#o.idleMs;
    while (!this.#stopping) {
      let committed = 0;
      try {
        committed = await this.runOnce();
      } catch (err) {
        // Queue errors (Redis unreachable): report and try again after a pause.
        this.#report(err, 'queue');
        await this.#pause(this.#o.maxBackoffMs);
        continue;
      }
      if (committed === 0) {
        // Draining: a pass that found nothing means everything queued before stop() is written.
        if (this.#drainUntil !== null) return;
        await this.#pause(idle);
        idle = Math.min(idle * 2, Math.max(IDLE_CAP_MS, this.#o.idleMs));
      } else {
        idle = this.#o.idleMs;
      }
    }
  }

  /**
   * Samples the oldest entry of every partition, so the lag counts entries no one has read yet (a
   * backlog behind a slow or down Postgres).
   */
  async #probeLoop(): Promise<void> {
    const { queue } = this.#o;
    while (!this.#stopping) {
      try {
        const found = await Promise.all(Array.from({ length: queue.partitions }, (_, p) => queue.oldest(p)));
        let oldest: number | null = null;
        for (const ts of found) if (ts !== null && (oldest === null || ts < oldest)) oldest = ts;
        this.#queuedOldest = oldest;
      } catch {
        // The persist loop reports queue errors; the last sample stands meanwhile.
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.lagProbeMs);
        timer.unref();
        this.#probeWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * Writes the pass, retrying with back-off until it commits (or the persister stops), then acks every
   * partition. Resolves with the number of entries committed (0 when abandoned on stop).
   */
  async #commit(batches: PartitionBatch[]): Promise<number> {
    let entries = 0;
    for (const { partition, entries: batch } of batches) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const e of batch) oldest = Math.min(oldest, recordTs(e));
      this.#inHand.set(partition, oldest);
      entries += batch.length;
    }
    try {
      let backoff = 100;
      for (;;) {
        try {
          let result: BatchResult;
          try {
            result = await writePass(this.#o.db, batches, this.#o.lookbackDays);
          } catch (err) {
            // A record Postgres refuses (a NUL in a text, a malformed UUID) would fail the pass forever
            // and stop every partition: write the pass piece by piece instead, dead-lettering it.
            if (!isDataError(err)) throw err;
            result = await this.#writeIsolating(batches);
          }
          this.#postgresUp = true;
          this.#lastError = null;
          this.#o.onBatch?.(result, entries);
          break;
        } catch (err) {
          this.#postgresUp = false;
          this.#report(err, 'postgres');
          // Stopping while Postgres is down: leave the entries pending; a collector reclaims them later.
          if (this.#stopping) return 0;
          await this.#pause(backoff);
          backoff = Math.min(backoff * 2, this.#o.maxBackoffMs);
        }
      }
    } finally {
      this.#inHand.clear();
    }
    // A failed ack leaves the entries pending: they are reclaimed and rewritten idempotently.
    const acks = await Promise.allSettled(
      batches.map(({ partition, entries: batch }) =>
        this.#o.queue.ack(
          partition,
          batch.map((e) => e.id),
        ),
      ),
    );
    const failed = acks.find((a) => a.status === 'rejected');
    if (failed) throw failed.reason;
    return entries;
  }

  /**
   * Writes a pass that failed with a data error: each partition alone, and within a partition that
   * still fails each entry alone, in queue order. An entry that fails alone is dead-lettered (reported,
   * kept in `dead_letters`, acknowledged with the rest). A connection error is thrown, so the whole pass
   * is retried later: what was committed meanwhile is rewritten idempotently.
   */
  async #writeIsolating(batches: readonly PartitionBatch[]): Promise<BatchResult> {
    const { db, lookbackDays } = this.#o;
    const total: BatchResult = {
      pageViewsInserted: 0,
      linksInserted: 0,
      sessionsConverted: 0,
      erased: 0,
      usersErased: 0,
    };
    const add = (r: BatchResult) => {
      for (const k of Object.keys(total) as (keyof BatchResult)[]) total[k] += r[k];
    };
    for (const batch of batches) {
      try {
        add(await writePass(db, [batch], lookbackDays));
        continue;
      } catch (err) {
        if (!isDataError(err)) throw err;
      }
      for (const entry of batch.entries) {
        try {
          add(await writePass(db, [{ partition: batch.partition, entries: [entry] }], lookbackDays));
        } catch (err) {
          if (!isDataError(err)) throw err;
          await this.#deadLetter(entry, err);
        }
      }
    }
    return total;
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
