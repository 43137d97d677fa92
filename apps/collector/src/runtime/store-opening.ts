/**
 * Opens the collector's store: on Redis (single or Cluster) with the persister's own connection opened
 * at its first use, or the memory store with its journal and session snapshot in `DATA_DIR`. What is
 * opened is pushed onto `closers`, closed in reverse order by the caller.
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
import type { FastifyBaseLogger } from 'fastify';
import type { CollectorConfig, RedisConfig } from '../config/collector-config.js';
import { asConfigError } from '../config/store-option-errors.js';
import {
  connectRedis,
  evictionWarning,
  PERSISTER_REDIS_COMMAND_TIMEOUT_MS,
  type RedisClient,
} from './redis-client.js';
import { displayAddress, oneLine, redisProblem, StartupError } from './startup-error.js';

/** Every side of the store the collector uses. */
export type CollectorStore = DeviceStore & DeviceAdmin & QueueConsumer & PartitionLeases;

/** What closes an opened resource. */
export type Closer = () => Promise<void> | void;

/** An open store, its Redis client (null: embedded) and the persister's queue. */
export interface OpenStore {
  store: CollectorStore;
  redis: RedisClient | null;
  persisterQueue: () => Promise<QueueConsumer & PartitionLeases>;
}

/** The options both stores take. */
function storeOptions(config: CollectorConfig) {
  return {
    partitions: config.queuePartitions,
    sessionIdleSeconds: config.sessionIdleSeconds,
    sessionMaxSeconds: config.sessionMaxSeconds,
    conversionLookbackDays: config.conversionLookbackDays,
    recoveryDays: config.recovery.days,
    recoveryNetworkDailyCap: config.recoveryCaps.networkDaily,
    recoveryBlockDailyPercent: config.recoveryCaps.blockDailyPercent,
    recoveryDailyCap: config.recoveryCaps.daily,
  };
}

/** The variable and address of the configured Redis, for start-up errors. */
function redisAddress(config: RedisConfig): [string, string] {
  return config.kind === 'single'
    ? ['REDIS_URL', displayAddress(config.url)]
    : ['REDIS_CLUSTER_NODES', config.nodes.map((n) => `${n.host}:${n.port}`).join(',')];
}

/** A refused store option as the configuration error naming it, anything else as Redis's start-up error. */
function storeRefusal(redisConfig: RedisConfig, err: unknown): unknown {
  const asConfig = asConfigError(err);
  if (asConfig !== err) return asConfig;
  const [variable, address] = redisAddress(redisConfig);
  return new StartupError(variable, address, redisProblem(err), { cause: err });
}

/** Connects to Redis; unreachable is the start-up error naming the variable and address. */
async function connect(redisConfig: RedisConfig, log: FastifyBaseLogger): Promise<RedisClient> {
  try {
    // Errors and reconnects are logged by the client's listeners, once per cause and interval.
    return await connectRedis(redisConfig, log);
  } catch (err) {
    const [variable, address] = redisAddress(redisConfig);
    const cause = (err as Error).cause ?? err;
    throw new StartupError(variable, address, `Redis is unreachable (${oneLine(cause)})`, { cause: err });
  }
}

/** Opens the Redis store of `config.redis`. */
export async function openRedisStore(
  config: CollectorConfig,
  redisConfig: RedisConfig,
  log: FastifyBaseLogger,
  closers: Closer[],
): Promise<OpenStore> {
  const redisStoreOptions = {
    ...storeOptions(config),
    prefix: config.redisKeyPrefix,
    ...(config.saltKey ? { saltKey: config.saltKey } : {}),
    // Dropped so it cannot block its partition; the log keeps what it held.
    onPoisonEntry: (entry: PoisonEntry) =>
      log.error(
        { partition: entry.partition, entryId: entry.id, fields: entry.fields, err: entry.error },
        'dropped an undecodable queue entry',
      ),
  };
  const client = await connect(redisConfig, log);
  closers.push(async () => {
    await client.quit().catch(() => client.disconnect());
  });
  const store = await createRedisStore(client, redisStoreOptions).catch((err: unknown) => {
    throw storeRefusal(redisConfig, err);
  });
  const warning = await evictionWarning(client);
  if (warning) log.warn(warning);
  if (!config.saltKey) {
    log.warn(
      'SALT_KEY is not set: the daily salt is stored in Redis unsealed, so whoever reads Redis can reverse visitor hashes (required with NODE_ENV=production)',
    );
  }
  // The persister's queue: a store on a connection of its own, with the persister's longer command
  // timeout, opened at the first call.
  let opened: Promise<QueueConsumer & PartitionLeases> | null = null;
  const persisterQueue = () => {
    opened ??= (async () => {
      const own = await connectRedis(redisConfig, log, PERSISTER_REDIS_COMMAND_TIMEOUT_MS);
      closers.push(async () => {
        await own.quit().catch(() => own.disconnect());
      });
      return createRedisStore(own, redisStoreOptions).catch((err: unknown) => {
        throw storeRefusal(redisConfig, err);
      });
    })();
    return opened;
  };
  return { store, redis: client, persisterQueue };
}

/** Opens the memory store, its journal and session snapshot in `DATA_DIR`. */
export function openMemoryStore(config: CollectorConfig, closers: Closer[]): OpenStore {
  let memory: ReturnType<typeof createMemoryStore>;
  try {
    memory = createMemoryStore({
      ...storeOptions(config),
      journalPath: join(config.dataDir, 'queue.journal'),
      // Live sessions survive a restart: written every 10 s and at shutdown, read back at start.
      snapshotPath: join(config.dataDir, 'sessions.snapshot'),
    });
  } catch (err) {
    throw asConfigError(err);
  }
  closers.push(() => memory.close());
  return { store: memory, redis: null, persisterQueue: async () => memory };
}
