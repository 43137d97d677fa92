/**
 * The ioredis client of the configuration (one Redis or a Cluster), created here and passed to the
 * stores (they never create clients), plus the start-up check that Redis cannot evict queue entries.
 *
 * The client fails fast: with Redis away, an ingest request must answer 503 within a second instead
 * of waiting in ioredis's offline queue through its reconnect back-off (it held requests up to 32 s, so
 * clients timed out on events that were then stored anyway). So: no offline queue (a command while
 * disconnected fails at once), no re-sending after a dropped connection, a command timeout, and
 * reconnect attempts at most 500 ms apart so the collector serves again soon after Redis returns.
 * A retried request carries the same event ids, so one that did run before its timeout counts once.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/collector-config.js';
import { logRedisEvents } from './redis-events.js';

/** Either client; both run the stores' scripts. */
export type RedisClient = Redis | Cluster;

/** A command without a reply after this fails (the request answers 503 DL_STORE_UNAVAILABLE). */
const REDIS_COMMAND_TIMEOUT_MS = 500;
/**
 * The persister's own connection: its reads of 500 entries per partition and its lease scripts are not
 * a request a client waits on, and a timed-out read costs a retry, so it waits longer than ingest (a
 * busy Redis answered within 2 s is not an outage), while staying well below the lease time.
 */
export const PERSISTER_REDIS_COMMAND_TIMEOUT_MS = 2_000;
/** How long start-up waits for Redis before it gives up. */
const REDIS_STARTUP_TIMEOUT_MS = 5_000;

const reconnectDelay = (attempt: number): number => Math.min(50 * attempt, 500);

const nodeOptions: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  connectTimeout: 2_000,
  retryStrategy: reconnectDelay,
};

/**
 * Connects to Redis or the Cluster of `config` (commands time out after `commandTimeout` ms: the
 * ingest one by default, {@link PERSISTER_REDIS_COMMAND_TIMEOUT_MS} for the persister's) and resolves once it is ready (without an offline
 * queue nothing can be sent before); errors and reconnects go to `log`, rate-limited. Rejects after
 * {@link REDIS_STARTUP_TIMEOUT_MS} with the last connection error, the client closed.
 */
export async function connectRedis(
  config: RedisConfig,
  log: FastifyBaseLogger,
  commandTimeout = REDIS_COMMAND_TIMEOUT_MS,
): Promise<RedisClient> {
  const options = { ...nodeOptions, commandTimeout };
  const client =
    config.kind === 'single'
      ? new Redis(config.url, { ...options, enableAutoPipelining: true })
      : new Cluster(
          config.nodes.map((n) => ({ host: n.host, port: n.port })),
          // Auto-pipelining groups commands by the shard of their first key. The stores' scripts are
          // defined with a fixed key count, so their first argument is a key (with the key count
          // first, a Cluster pipelined scripts for keys on different shards together and they failed).
          {
            enableAutoPipelining: true,
            enableOfflineQueue: false,
            clusterRetryStrategy: reconnectDelay,
            redisOptions: options,
          },
        );
  const events = logRedisEvents(client, log);
  try {
    await ready(client, REDIS_STARTUP_TIMEOUT_MS, events.lastError);
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return client;
}

function ready(client: RedisClient, ms: number, lastError: () => Error | null): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      const cause = lastError();
      reject(
        new Error(`Redis did not answer in ${ms / 1000} s${cause ? `: ${cause.message}` : ''}`, { cause }),
      );
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/**
 * A warning when `maxmemory-policy` could evict queue entries (anything but `noeviction` or
 * `volatile-*`: the queue's streams have no TTL, so volatile policies never pick them), else null.
 * Managed Redis often disables CONFIG: then nothing can be said and nothing is warned.
 */
export async function evictionWarning(client: RedisClient): Promise<string | null> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    let policy: string | undefined;
    try {
      const reply = (await node.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
      policy = reply[1];
    } catch {
      return null;
    }
    if (policy && policy !== 'noeviction' && !policy.startsWith('volatile-')) {
      return `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict queued events before they reach Postgres. Set maxmemory-policy noeviction (or a volatile-* policy).`;
    }
  }
  return null;
}
