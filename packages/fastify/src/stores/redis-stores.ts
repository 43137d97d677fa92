/**
 * Builds the Redis session store and queue on a client the caller owns (single node or Cluster).
 */
import { REDIS_PREFIX } from '@devicelink/protocol';
import type { Cluster, Redis } from 'ioredis';
import type { EventQueue } from '../event-queue.js';
import { RedisEventQueue, type RedisEventQueueOptions } from '../queue/redis-event-queue.js';
import type { SessionStore } from '../session-store.js';
import { defineCommands } from './redis-commands.js';
import { RedisKeys } from './redis-keys.js';
import { RedisSessionStore } from './redis-session-store.js';
import { QueuePartitionsMismatchError } from './store-errors.js';
import { resolveStoreOptions, type StoreOptions } from './store-options.js';

export { QueuePartitionsMismatchError };

/** Options of {@link createRedisStores}. */
export interface RedisStoreOptions extends StoreOptions {
  /** Prefix of every key (default `dl:`). */
  keyPrefix?: string;
  /** Called for each undecodable queue entry after it was dropped (see `RedisEventQueueOptions`). */
  onPoisonEntry?: RedisEventQueueOptions['onPoisonEntry'];
}

/** The Redis-backed stores. `close()` does not close the client: it belongs to the caller. */
export interface RedisStores {
  sessions: SessionStore;
  queue: EventQueue;
  close(): Promise<void>;
}

/**
 * Defines the scripts on `redis`, stores the partition count at first start (refusing a different
 * one later with {@link QueuePartitionsMismatchError}) and returns the stores.
 *
 * @example
 * const redis = new Redis(process.env.REDIS_URL);
 * const { sessions, queue } = await createRedisStores(redis, { partitions: 64 });
 */
export async function createRedisStores(
  redis: Redis | Cluster,
  options: RedisStoreOptions = {},
): Promise<RedisStores> {
  const o = resolveStoreOptions(options);
  const keys = new RedisKeys(options.keyPrefix ?? REDIS_PREFIX, o.partitions);
  const client = defineCommands(redis);
  const stored = Number(await client.dlSetOnce(keys.config(), String(o.partitions), 0));
  if (stored !== o.partitions) throw new QueuePartitionsMismatchError(stored, o.partitions);
  return {
    sessions: new RedisSessionStore(client, keys, o),
    queue: new RedisEventQueue(client, keys, { onPoisonEntry: options.onPoisonEntry }),
    async close() {},
  };
}
