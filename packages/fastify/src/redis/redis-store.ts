/**
 * `createRedisStore`: the Redis backend (single node or Cluster) on a client the caller owns.
 */

import type { PartitionLeases, QueueConsumer } from '@devicelink/protocol';
import type { Cluster, Redis } from 'ioredis';
import { DeviceLinkOptionsError } from '../errors.js';
import { composeStore } from '../store/compose-store.js';
import { SALT_KEY_BYTES } from '../store/daily-salt.js';
import type { DeviceAdmin } from '../store/device-admin.js';
import type { DeviceStore } from '../store/device-store.js';
import { QueuePartitionsMismatchError } from '../store/store-errors.js';
import { resolveStoreOptions, type StoreOptions } from '../store/store-options.js';
import { defineCommands } from './redis-commands.js';
import { DEFAULT_KEY_PREFIX, RedisKeys } from './redis-keys.js';
import { RedisLeases } from './redis-leases.js';
import { RedisQueue, type RedisQueueOptions } from './redis-queue.js';
import { RedisSessions } from './redis-sessions.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions extends StoreOptions {
  /**
   * Prefix of every key (default `dl:`). A persister of this store's queue must use the same prefix
   * and partition count.
   */
  prefix?: string;
  /** Called for each undecodable queue entry after it was dropped (default: a process warning). */
  onPoisonEntry?: RedisQueueOptions['onPoisonEntry'];
  /**
   * 32 bytes (the same on every process of the store): the daily salt is kept in Redis sealed under it
   * (AES-256-GCM), so whoever reads Redis alone cannot reverse visitor hashes by trying addresses.
   * Without it the salt is stored as it is. A new key starts a new salt (the day's hashes change once).
   */
  saltKey?: Uint8Array;
}

/**
 * The Redis store: the plugin's `DeviceStore`, the admin side, the queue's consumer side and the
 * persisters' partition leases in one object. It never closes the client: that belongs to the caller.
 */
export interface RedisStore extends DeviceStore, DeviceAdmin, QueueConsumer, PartitionLeases {}

/**
 * Defines the scripts on `redis`, stores the partition count at first start (refusing a different
 * one later with {@link QueuePartitionsMismatchError}) and returns the store.
 *
 * @example
 * const redis = new Redis('redis://127.0.0.1:6379');
 * const store = await createRedisStore(redis, { partitions: 64 });
 * await app.register(devicelink, { store });
 */
export async function createRedisStore(
  redis: Redis | Cluster,
  options: RedisStoreOptions = {},
): Promise<RedisStore> {
  const o = resolveStoreOptions(options);
  if (options.saltKey !== undefined && options.saltKey.length !== SALT_KEY_BYTES) {
    throw new DeviceLinkOptionsError(
      'saltKey',
      `must be ${SALT_KEY_BYTES} bytes, got ${options.saltKey.length}`,
    );
  }
  const keys = new RedisKeys(options.prefix ?? DEFAULT_KEY_PREFIX, o.partitions);
  const client = defineCommands(redis);
  const stored = Number(await client.dlSetOnce(keys.config(), String(o.partitions), 0));
  if (stored !== o.partitions) throw new QueuePartitionsMismatchError(stored, o.partitions);
  return composeStore(
    new RedisSessions(client, keys, o, options.saltKey ?? null),
    new RedisQueue(client, keys, { onPoisonEntry: options.onPoisonEntry }),
    new RedisLeases(client, keys),
    o.lookbackSeconds / 86_400,
  );
}
