/**
 * `persist`: a persister as a process of its own (an ingest-only app writes the queue, this drains
 * it): migrates, persists until SIGTERM or SIGINT (or `signal` aborts), then drains for at most
 * `drainMs` and stops. Every five minutes it folds the past hours' roll-ups (`foldRollups`).
 */
import type { PartitionLeases, QueueConsumer } from '@devicelink/protocol';
import type { Kysely } from 'kysely';
import { migrate } from './migrate.js';
import { createPersister, type PersisterOptions } from './persister.js';
import { foldRollups } from './rollup-folding.js';
import { DEFAULT_ROLLUP_KEYS_PER_HOUR } from './rollup-metrics.js';
import type { Database } from './schema.js';

/** Options of {@link persist}. */
export interface PersistOptions extends Omit<PersisterOptions, 'db' | 'queue'> {
  /**
   * The database: `createDb(...).db`. Migrations run on it with its query timeout; before a migration
   * over a large table, run `database.maintenance(migrate)` first.
   */
  db: Kysely<Database>;
  /** The store's queue and leases: same prefix and partition count as the apps that write it. */
  queue: QueueConsumer & PartitionLeases;
  /** Stops the command instead of (or as well as) SIGTERM and SIGINT. */
  signal?: AbortSignal;
  /** How long a stop keeps persisting what is queued, ms (default 10,000). */
  drainMs?: number;
  /** Called when the stop begins (e.g. to arm a shutdown deadline). */
  onStop?: () => void;
  /**
   * Distinct pages (and referrer origins, entry pages, entry referrers) a past hour's roll-ups keep by
   * name; the rest are folded into `(other)` every five minutes (`foldRollups`). Default 100.
   */
  rollupKeysPerHour?: number;
}

/** How often `persist` folds the past hours' roll-ups. */
const FOLD_EVERY_MS = 5 * 60_000;

/**
 * Runs the persister until a signal; resolves after a clean stop. Does not close `db` or the queue's
 * client: they belong to the caller.
 *
 * @example
 * const redis = new Redis(redisUrl);
 * const store = await createRedisStore(redis, { prefix: 'dl:', partitions: 64 });
 * const database = await createDb({ databaseUrl });
 * await persist({ db: database.db, queue: store });
 * await database.close();
 * await redis.quit();
 */
export async function persist(options: PersistOptions): Promise<void> {
  const { signal, drainMs = 10_000, onStop, rollupKeysPerHour, ...persisterOptions } = options;
  await migrate(options.db);
  const persister = createPersister(persisterOptions);
  persister.start();
  // Roll-ups bounded: one run at a time across persisters (the job takes an advisory lock).
  let folding: Promise<unknown> | null = null;
  const fold = setInterval(() => {
    folding ??= foldRollups(options.db, { keysPerHour: rollupKeysPerHour ?? DEFAULT_ROLLUP_KEYS_PER_HOUR })
      .catch((err: unknown) => persisterOptions.onError?.(err, 'roll-up folding'))
      .finally(() => {
        folding = null;
      });
  }, FOLD_EVERY_MS);
  fold.unref();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      signal?.removeEventListener('abort', stop);
      onStop?.();
      resolve();
    };
    if (signal?.aborted) return stop();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
  clearInterval(fold);
  await folding;
  await persister.stop({ drainMs });
}
