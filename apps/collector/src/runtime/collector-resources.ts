/**
 * Opens what a collector runs on: the data-dir lock (when anything is embedded), the store (Redis, or
 * the memory store with a journal in `DATA_DIR`), and the database (Postgres or PGlite), and closes
 * them in reverse order.
 */
import { join } from 'node:path';
import {
  createMemoryStore,
  createRedisStore,
  type DeviceAdmin,
  type DeviceStore,
  type PartitionLeases,
  type PoisonEntry,
  type QueueConsumer,
} from '@devicelink/fastify';
import { createDb, type PersisterDb } from '@devicelink/persister';
import type { FastifyBaseLogger } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import { asConfigError } from '../config/store-option-errors.js';
import { type DataDirLock, lockDataDir } from '../embedded/data-dir-lock.js';
import { embeddedRecoverySecret } from '../embedded/recovery-secret.js';
import {
  connectRedis,
  evictionWarning,
  PERSISTER_REDIS_COMMAND_TIMEOUT_MS,
  type RedisClient,
} from './redis-client.js';
import { displayAddress, oneLine, redisProblem, StartupError } from './startup-error.js';

/** The variable and address of the configured Redis, for start-up errors. */
function redisAddress(config: NonNullable<CollectorConfig['redis']>): [string, string] {
  return config.kind === 'single'
    ? ['REDIS_URL', displayAddress(config.url)]
    : ['REDIS_CLUSTER_NODES', config.nodes.map((n) => `${n.host}:${n.port}`).join(',')];
}

/** Every side of the store the collector uses. */
export type CollectorStore = DeviceStore & DeviceAdmin & QueueConsumer & PartitionLeases;

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
  const closers: Array<() => Promise<void> | void> = [];
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
    const embedded = config.redis === null || config.databaseUrl === null;
    if (embedded) {
      const lock: DataDirLock = lockDataDir(config.dataDir);
      closers.push(() => lock.release());
    }
    const storeOptions = {
      partitions: config.queuePartitions,
      sessionIdleSeconds: config.sessionIdleSeconds,
      sessionMaxSeconds: config.sessionMaxSeconds,
      conversionLookbackDays: config.conversionLookbackDays,
      recoveryDays: config.recovery.days,
      recoveryNetworkDailyCap: config.recoveryCaps.networkDaily,
      recoveryBlockDailyPercent: config.recoveryCaps.blockDailyPercent,
      recoveryDailyCap: config.recoveryCaps.daily,
    };
    let redis: RedisClient | null = null;
    let store: CollectorStore;
    let persisterQueue: CollectorResources['persisterQueue'] = async () => store;
    if (config.redis) {
      const redisConfig = config.redis;
      const redisStoreOptions = {
        ...storeOptions,
        prefix: config.redisKeyPrefix,
        ...(config.saltKey ? { saltKey: config.saltKey } : {}),
        // Dropped so it cannot block its partition; the log keeps what it held.
        onPoisonEntry: (entry: PoisonEntry) =>
          log.error(
            { partition: entry.partition, entryId: entry.id, fields: entry.fields, err: entry.error },
            'dropped an undecodable queue entry',
          ),
      };
      // Errors and reconnects are logged by the client's listeners, once per cause and interval.
      let client: RedisClient;
      try {
        client = await connectRedis(config.redis, log);
      } catch (err) {
        const [variable, address] = redisAddress(config.redis);
        const cause = (err as Error).cause ?? err;
        throw new StartupError(variable, address, `Redis is unreachable (${oneLine(cause)})`, { cause: err });
      }
      redis = client;
      closers.push(async () => {
        await client.quit().catch(() => client.disconnect());
      });
      const refused = (err: unknown) => {
        const asConfig = asConfigError(err);
        if (asConfig !== err) return asConfig;
        const [variable, address] = redisAddress(redisConfig);
        return new StartupError(variable, address, redisProblem(err), { cause: err });
      };
      store = await createRedisStore(client, redisStoreOptions).catch((err: unknown) => {
        throw refused(err);
      });
      const warning = await evictionWarning(client);
      if (warning) log.warn(warning);
      if (!config.saltKey) {
        log.warn(
          'SALT_KEY is not set: the daily salt is stored in Redis unsealed, so whoever reads Redis can reverse visitor hashes (required with NODE_ENV=production)',
        );
      }
      let opened: Promise<QueueConsumer & PartitionLeases> | null = null;
      persisterQueue = () => {
        opened ??= (async () => {
          const own = await connectRedis(redisConfig, log, PERSISTER_REDIS_COMMAND_TIMEOUT_MS);
          closers.push(async () => {
            await own.quit().catch(() => own.disconnect());
          });
          return createRedisStore(own, redisStoreOptions).catch((err: unknown) => {
            throw refused(err);
          });
        })();
        return opened;
      };
    } else {
      let memory: ReturnType<typeof createMemoryStore>;
      try {
        memory = createMemoryStore({
          ...storeOptions,
          journalPath: join(config.dataDir, 'queue.journal'),
          // Live sessions survive a restart: written every 10 s and at shutdown, read back at start.
          snapshotPath: join(config.dataDir, 'sessions.snapshot'),
        });
      } catch (err) {
        throw asConfigError(err);
      }
      closers.push(() => memory.close());
      store = memory;
    }
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
    const storeName = config.redis
      ? config.redis.kind === 'cluster'
        ? 'Redis Cluster'
        : 'Redis'
      : 'embedded store';
    const database = config.databaseUrl ? 'Postgres' : `embedded PGlite in ${config.dataDir}`;
    // Collectors sharing Redis must share the secret, so only the embedded store makes its own.
    const recoverySecret = !config.recovery.enabled
      ? null
      : (config.recovery.secret ?? (config.redis ? null : embeddedRecoverySecret(config.dataDir)));
    return {
      store,
      db,
      redis,
      persisterQueue: () => persisterQueue(),
      recoverySecret,
      mode:
        !config.redis && !config.databaseUrl ? `embedded (${config.dataDir})` : `${storeName} + ${database}`,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
