/**
 * Options shared by the Redis and memory stores, and their defaults from the contract.
 */
import {
  DEFAULT_QUEUE_PARTITIONS,
  DEFAULT_SESSION_IDLE_SECONDS,
  DEFAULT_SESSION_MAX_SECONDS,
} from '@devicelink/protocol';

/** Options both store implementations understand. */
export interface StoreOptions {
  /** `QUEUE_PARTITIONS` (default 64). */
  partitions?: number;
  /** `SESSION_IDLE_SECONDS`, sliding (default 1800). */
  sessionIdleSeconds?: number;
  /** `SESSION_MAX_SECONDS` (default 86400). */
  sessionMaxSeconds?: number;
  /** `CONVERSION_LOOKBACK_DAYS` (default 30): how long the last linked user is remembered per device. */
  conversionLookbackDays?: number;
}

/** The options with defaults applied and validated. */
export interface ResolvedStoreOptions {
  partitions: number;
  idleMs: number;
  maxMs: number;
  lookbackSeconds: number;
}

/** How long a header/cookie pair is remembered so repeated aliases queue one record, seconds. */
export const ALIAS_DEDUPE_SECONDS = 86_400;

/** How long a daily salt is kept: its day plus one, for requests that straddle midnight. */
export const SALT_SECONDS = 2 * 86_400;

const positiveInt = (name: string, value: number): number => {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
};

/** Applies defaults; throws a RangeError naming the option for a bad value. */
export function resolveStoreOptions(options: StoreOptions): ResolvedStoreOptions {
  const partitions = positiveInt('QUEUE_PARTITIONS', options.partitions ?? DEFAULT_QUEUE_PARTITIONS);
  const idle = positiveInt(
    'SESSION_IDLE_SECONDS',
    options.sessionIdleSeconds ?? DEFAULT_SESSION_IDLE_SECONDS,
  );
  const max = positiveInt('SESSION_MAX_SECONDS', options.sessionMaxSeconds ?? DEFAULT_SESSION_MAX_SECONDS);
  const days = positiveInt('CONVERSION_LOOKBACK_DAYS', options.conversionLookbackDays ?? 30);
  return { partitions, idleMs: idle * 1000, maxMs: max * 1000, lookbackSeconds: days * 86_400 };
}
