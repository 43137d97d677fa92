/**
 * The state `/readyz` and `/metrics` answer from, kept by background probes (every second by default)
 * instead of a probe per request: an answer never waits on Redis or Postgres, so a balancer's check
 * neither times out nor flaps when the machine is busy, and every answer has the same fields.
 *
 * - The store: a small write (a `SET … PX` of a probe key; on a Cluster one per partition slot, where
 *   the queue streams live), so a Redis that answers but refuses writes (`OOM` under `noeviction`,
 *   `READONLY` on a replica) is seen as not writable. The embedded store is probed with a read.
 * - Postgres: `select 1` on the pool (not the persister's write results: a lock timeout is not an
 *   outage), and the dead letters' count.
 * - Persistence: each partition's owner and oldest entry, and what every live persister published
 *   with its heartbeat (`persistence-sample.ts`).
 *
 * A refusal or a lost connection counts at once; a probe that only timed out counts after
 * {@link TIMEOUTS_BEFORE_DOWN} in a row (a busy event loop delays a reply, it does not lose Redis).
 */
import type { Database } from '@devicelink/persister';
import { Cluster } from 'ioredis';
import { type Kysely, sql } from 'kysely';
import { PROBE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import type { RedisClient } from '../runtime/redis-client.js';
import type { CollectorStore } from '../runtime/store-opening.js';
import { type PersistenceSample, samplePersistence } from './persistence-sample.js';

/** Probe timeouts in a row before a service is reported down. */
const TIMEOUTS_BEFORE_DOWN = 3;
/** How often the dead letters are counted (a count over a table, not a round trip per second). */
const DEAD_LETTER_COUNT_MS = 5_000;

/** One probed service: up or down, and why. */
export interface ServiceState {
  up: boolean;
  /** The last failure's message while down, else null. */
  error: string | null;
}

/** Everything the monitor knows, as of `checkedAt`. */
export interface ReadinessSnapshot {
  /** When the last probe round ended, Unix ms (null before the first). */
  checkedAt: number | null;
  /** The store takes writes. */
  store: ServiceState;
  postgres: ServiceState;
  /** Rows in `dead_letters` (null until Postgres answered a count). */
  deadLetters: number | null;
  /** The last persistence sample (null until the store answered one). */
  persistence: PersistenceSample | null;
}

/** Options of {@link ReadinessMonitor}. */
export interface ReadinessMonitorOptions {
  store: CollectorStore;
  /** The Redis client of a Redis store (null: the embedded store). */
  redis: RedisClient | null;
  redisKeyPrefix: string;
  db: Kysely<Database>;
  /** Between two probe rounds, ms (default 1,000). */
  everyMs?: number;
}

/** Tracks one service across probes: down at once on a refusal, after a few timeouts otherwise. */
class ServiceTracker {
  state: ServiceState = { up: true, error: null };
  #timeouts = 0;

  succeeded(): void {
    this.#timeouts = 0;
    this.state = { up: true, error: null };
  }

  failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const timedOut = /no answer in|timed out|timeout/i.test(message);
    this.#timeouts = timedOut ? this.#timeouts + 1 : TIMEOUTS_BEFORE_DOWN;
    if (this.#timeouts >= TIMEOUTS_BEFORE_DOWN) this.state = { up: false, error: message.split('\n')[0]! };
  }
}

/** The background prober of one collector. `start()` resolves after the first round. */
export class ReadinessMonitor {
  readonly #o: Required<ReadinessMonitorOptions>;
  readonly #store = new ServiceTracker();
  readonly #postgres = new ServiceTracker();
  readonly #probeKeys: string[];
  #deadLetters: number | null = null;
  #deadLettersAt = 0;
  #persistence: PersistenceSample | null = null;
  #checkedAt: number | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;

  constructor(options: ReadinessMonitorOptions) {
    this.#o = { everyMs: 1_000, ...options };
    const { redis, redisKeyPrefix: prefix, store } = options;
    const cluster = redis instanceof Cluster;
    // On a Cluster the queue is spread over the partition slots: a full shard refuses its partitions.
    this.#probeKeys = cluster
      ? Array.from({ length: store.partitions }, (_, p) => `${prefix}{p${p}}:readyz`)
      : [`${prefix}readyz`];
  }

  /** Runs a first round, then keeps probing until `stop()`. */
  async start(): Promise<void> {
    if (this.#loop) return;
    this.#stopping = false;
    await this.round();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
  }

  /** The current state (no I/O). */
  snapshot(): ReadinessSnapshot {
    return {
      checkedAt: this.#checkedAt,
      store: this.#store.state,
      postgres: this.#postgres.state,
      deadLetters: this.#deadLetters,
      persistence: this.#persistence,
    };
  }

  /** One probe round (exposed for tests that must not wait for the next tick). */
  async round(): Promise<void> {
    await Promise.all([this.#probeStore(), this.#probePostgres()]);
    this.#checkedAt = Date.now();
  }

  async #probeStore(): Promise<void> {
    try {
      await within(this.#write(), PROBE_TIMEOUT_MS);
      this.#store.succeeded();
    } catch (err) {
      this.#store.failed(err);
      return;
    }
    try {
      this.#persistence = await within(samplePersistence(this.#o.store, this.#persistence), PROBE_TIMEOUT_MS);
    } catch {
      // A slow sample: the last one stands (its ages are computed at answer time).
    }
  }

  async #write(): Promise<void> {
    const { redis, store } = this.#o;
    if (!redis) {
      await store.depth(0);
      return;
    }
    const value = String(Date.now());
    await Promise.all(this.#probeKeys.map((key) => redis.set(key, value, 'PX', 10_000)));
  }

  async #probePostgres(): Promise<void> {
    const { db } = this.#o;
    try {
      await within(sql`select 1`.execute(db), PROBE_TIMEOUT_MS);
      this.#postgres.succeeded();
    } catch (err) {
      this.#postgres.failed(err);
      return;
    }
    if (Date.now() - this.#deadLettersAt < DEAD_LETTER_COUNT_MS) return;
    try {
      const row = await within(
        db
          .selectFrom('dead_letters')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
        PROBE_TIMEOUT_MS,
      );
      this.#deadLetters = Number(row.n);
      this.#deadLettersAt = Date.now();
    } catch {
      // Before the migrations (no table yet) or a slow count: the last count stands.
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.everyMs);
        timer.unref();
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (this.#stopping) return;
      await this.round();
    }
  }
}
