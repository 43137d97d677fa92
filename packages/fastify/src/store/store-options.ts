/**
 * Options shared by the Redis and memory stores, and their defaults from the protocol.
 */
import {
  DEFAULT_QUEUE_PARTITIONS,
  DEFAULT_SESSION_IDLE_SECONDS,
  DEFAULT_SESSION_MAX_SECONDS,
} from '@devicelink/protocol';
import { DeviceLinkOptionsError } from '../errors.js';

/** Options both store implementations understand. */
export interface StoreOptions {
  /**
   * Queue partitions (default 64). Fixed for the life of the queue: a persister reads the same count,
   * and a store refuses to start on a queue set up with another.
   */
  partitions?: number;
  /** Sliding idle timeout of an anonymous session, seconds (default 1800). */
  sessionIdleSeconds?: number;
  /** Longest life of an anonymous session, seconds (default 86400). */
  sessionMaxSeconds?: number;
  /** How long the last linked user is remembered per device, days (default 30). */
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

/** `value`, or a DeviceLinkOptionsError naming `option` when it is not a positive integer. */
export function positiveInt(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new DeviceLinkOptionsError(option, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Applies defaults; throws a DeviceLinkOptionsError naming the option for a bad value. */
export function resolveStoreOptions(options: StoreOptions): ResolvedStoreOptions {
  const partitions = positiveInt('partitions', options.partitions ?? DEFAULT_QUEUE_PARTITIONS);
  const idle = positiveInt('sessionIdleSeconds', options.sessionIdleSeconds ?? DEFAULT_SESSION_IDLE_SECONDS);
  const max = positiveInt('sessionMaxSeconds', options.sessionMaxSeconds ?? DEFAULT_SESSION_MAX_SECONDS);
  const days = positiveInt('conversionLookbackDays', options.conversionLookbackDays ?? 30);
  return { partitions, idleMs: idle * 1000, maxMs: max * 1000, lookbackSeconds: days * 86_400 };
}
