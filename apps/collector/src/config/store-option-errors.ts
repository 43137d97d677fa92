/**
 * The library speaks in its option names (`partitions`); the collector's operator sets environment
 * variables. This maps a store's option error to the variable that set the option.
 */
import { isDeviceLinkPluginError, type QueuePartitionsMismatchError } from '@devicelink/fastify';
import { ConfigError } from './config-error.js';

/** The variable behind each store option the collector passes. */
const VARIABLE_OF: Record<string, string> = {
  partitions: 'QUEUE_PARTITIONS',
  prefix: 'REDIS_KEY_PREFIX',
  sessionIdleSeconds: 'SESSION_IDLE_SECONDS',
  sessionMaxSeconds: 'SESSION_MAX_SECONDS',
  conversionLookbackDays: 'CONVERSION_LOOKBACK_DAYS',
};

/**
 * A ConfigError naming the variable for a store option error, else `err` unchanged.
 *
 * @example
 * const store = await createRedisStore(redis, options).catch((err) => { throw asConfigError(err); });
 */
export function asConfigError(err: unknown): unknown {
  if (!isDeviceLinkPluginError(err)) return err;
  const option = (err as { option?: unknown }).option;
  const variable = typeof option === 'string' ? VARIABLE_OF[option] : undefined;
  if (variable === undefined) return err;
  if (err.name === 'QueuePartitionsMismatchError') {
    const { stored, configured } = err as QueuePartitionsMismatchError;
    return new ConfigError(
      variable,
      `is ${configured} but the queue was set up with ${stored}: changing it would move devices to other ` +
        `partitions while their entries are queued. Set ${variable}=${stored}.`,
      { cause: err },
    );
  }
  return new ConfigError(variable, err.message.replace(/^.*?option "[^"]+" /, ''), { cause: err });
}
