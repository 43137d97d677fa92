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
  /**
   * Fingerprint entries and joins expire this long after their device was last seen, days (default
   * 30, `RECOVERY_DAYS`). Fractions are for tests.
   */
  recoveryDays?: number;
  /** How long after its first fresh request a minted id may still be joined, seconds (default 600). */
  joinWindowSeconds?: number;
  /** New fingerprint entries per network (/24 IPv4, /48 IPv6) per UTC day (default 100). */
  recoveryNetworkDailyCap?: number;
  /** New fingerprint entries per UTC day in all (default 50,000): random ids cannot fill the store. */
  recoveryDailyCap?: number;
  /**
   * The share of `recoveryDailyCap` one block (/16 IPv4, /32 IPv6) may take per UTC day, percent
   * (default 10): a flood from one provider's allocation cannot reach the store's ceiling.
   */
  recoveryBlockDailyPercent?: number;
}

/** The options with defaults applied and validated. */
export interface ResolvedStoreOptions {
  partitions: number;
  idleMs: number;
  maxMs: number;
  lookbackSeconds: number;
  recoveryMs: number;
  joinWindowMs: number;
  networkDailyCap: number;
  /** New entries per block per day (`recoveryBlockDailyPercent` of `dailyCap`, at least 1). */
  blockDailyCap: number;
  dailyCap: number;
}

/** How long an id pair is remembered so repeated cookie edges queue one record, seconds. */
export const EDGE_DEDUPE_SECONDS = 86_400;

/** Default `recoveryDays` (`RECOVERY_DAYS`). */
const DEFAULT_RECOVERY_DAYS = 30;

/** Default `recoveryBlockDailyPercent` (`RECOVERY_BLOCK_DAILY_PERCENT`). */
const DEFAULT_BLOCK_DAILY_PERCENT = 10;

/** How long a cap counter of a day is kept: its day plus one. */
export const CAP_SECONDS = 2 * 86_400;

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
  const recoveryDays = options.recoveryDays ?? DEFAULT_RECOVERY_DAYS;
  if (typeof recoveryDays !== 'number' || !(recoveryDays > 0) || !Number.isFinite(recoveryDays)) {
    throw new DeviceLinkOptionsError(
      'recoveryDays',
      `must be a positive number, got ${String(recoveryDays)}`,
    );
  }
  const dailyCap = positiveInt('recoveryDailyCap', options.recoveryDailyCap ?? 50_000);
  const percent = options.recoveryBlockDailyPercent ?? DEFAULT_BLOCK_DAILY_PERCENT;
  if (typeof percent !== 'number' || !(percent > 0 && percent <= 100)) {
    throw new DeviceLinkOptionsError(
      'recoveryBlockDailyPercent',
      `must be a number above 0 and at most 100, got ${String(percent)}`,
    );
  }
  return {
    partitions,
    idleMs: idle * 1000,
    maxMs: max * 1000,
    lookbackSeconds: days * 86_400,
    recoveryMs: Math.max(1, Math.round(recoveryDays * 86_400_000)),
    joinWindowMs: positiveInt('joinWindowSeconds', options.joinWindowSeconds ?? 600) * 1000,
    networkDailyCap: positiveInt('recoveryNetworkDailyCap', options.recoveryNetworkDailyCap ?? 100),
    blockDailyCap: Math.max(1, Math.floor((dailyCap * percent) / 100)),
    dailyCap,
  };
}
