/**
 * Opens what a collector runs on: the data-dir lock (when anything is embedded), the store (Redis, or
 * the memory store with a journal in `DATA_DIR`), and the database (Postgres or PGlite), and closes
 * them in reverse order.
 */
import type { PartitionLeases, QueueConsumer } from '@devicelink/fastify';
import { createDb, type PersisterDb } from '@devicelink/persister';
import type { FastifyBaseLogger } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import { type DataDirLock, lockDataDir } from '../embedded/data-dir-lock.js';
import { embeddedRecoverySecret } from '../embedded/recovery-secret.js';
import type { RedisClient } from './redis-client.js';
import { type Closer, type CollectorStore, openMemoryStore, openRedisStore } from './store-opening.js';

/** The open resources of a collector. */
export interface CollectorResources {
  /** The store: the plugin's request path, the admin routes' erasure, the persister's queue and leases. */
  store: CollectorStore;
  db: PersisterDb;
  redis: RedisClient | null;
  /**
   * The queue and leases the persister works on: on Redis a store on a connection of its own, with the
   * persister's longer command timeout (opened at the first call, closed with the rest); the embedded
   * store itself otherwise.
   */
  persisterQueue(): Promise<QueueConsumer & PartitionLeases>;
  /** `embedded` or `redis + postgres` style description for the start-up log. */
  mode: string;
  /**
   * The secret of fingerprint joins: `RECOVERY_SECRET`, or the embedded store's own in `DATA_DIR`;
   * null when joins are off (`RECOVERY=off`, or a shared store without `RECOVERY_SECRET`).
   */
  recoverySecret: string | null;
  /** Closes everything (idempotent). */
  close(): Promise<void>;
}

/**
 * Opens the resources of `config`. On failure closes what was opened and rethrows.
 *
 * @example
 * const resources = await openResources(config, app.log);
 */
export async function openResources(
  config: CollectorConfig,
  log: FastifyBaseLogger,
): Promise<CollectorResources> {
  const closers: Closer[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        log.warn({ err }, 'closing a resource failed');
      }
    }
  };
  try {
    if (config.redis === null || config.databaseUrl === null) {
      const lock: DataDirLock = lockDataDir(config.dataDir);
      closers.push(() => lock.release());
    }
    const { store, redis, persisterQueue } = config.redis
      ? await openRedisStore(config, config.redis, log, closers)
      : openMemoryStore(config, closers);
    const leaseMs = config.persisterLeaseSeconds * 1000;
    // Below the lease time: a frozen persister's open transaction is ended (its locks freed) before
    // its partitions move, and no statement waits long behind another persister's.
    const db = await createDb({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      lockTimeoutMs: Math.min(2_500, leaseMs / 4),
      idleInTransactionTimeoutMs: leaseMs / 2,
    });
    closers.push(() => db.close());
    return {
      store,
      db,
      redis,
      persisterQueue,
      recoverySecret: recoverySecret(config),
      mode: modeOf(config),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * The secret of fingerprint joins. Collectors sharing Redis must share it, so only the embedded store
 * makes its own.
 */
function recoverySecret(config: CollectorConfig): string | null {
  if (!config.recovery.enabled) return null;
  return config.recovery.secret ?? (config.redis ? null : embeddedRecoverySecret(config.dataDir));
}

/** `embedded (<dir>)`, or the store and the database, for the start-up log. */
function modeOf(config: CollectorConfig): string {
  if (!config.redis && !config.databaseUrl) return `embedded (${config.dataDir})`;
  const storeName = config.redis
    ? config.redis.kind === 'cluster'
      ? 'Redis Cluster'
      : 'Redis'
    : 'embedded store';
  const database = config.databaseUrl ? 'Postgres' : `embedded PGlite in ${config.dataDir}`;
  return `${storeName} + ${database}`;
}
