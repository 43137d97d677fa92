/**
 * What every benchmark of one run shares: the mode and its windows, the services, a Redis client on
 * the bench database, a way to start collectors that are stopped at the end whatever happens, and the
 * figures one benchmark hands to another (ingest rates for persistence, memory, scale).
 */
import type { Redis } from 'ioredis';
import { clearBenchKeys } from './bench-env.js';
import type { LoadResult } from './load.js';
import { type ServerProcess, startCollector } from './server-process.js';

/** Durations and counts of a mode. */
export interface ModeSettings {
  /** Window of the load runs a target is judged on, seconds. */
  headlineSeconds: number;
  /** One server's window in the ingest target's alternating rounds (five rounds of three servers), seconds. */
  roundSeconds: number;
  /** Window of the other cells of a matrix, seconds. */
  cellSeconds: number;
  /** Window of comparisons no target depends on (persister on, plugin alone), seconds. */
  comparisonSeconds: number;
  /** Window of the side comparisons (two collectors, embedded mode), seconds. */
  sideSeconds: number;
  /** Unmeasured warm-up of each freshly started server, seconds. */
  warmupSeconds: number;
  /** The large stored-session count of the scale benchmark. */
  storedSessions: number;
}

/** Quick mode (the default): at most about three minutes in all. */
const QUICK: ModeSettings = {
  headlineSeconds: 10,
  roundSeconds: 4,
  cellSeconds: 2,
  comparisonSeconds: 5,
  sideSeconds: 3,
  warmupSeconds: 1,
  storedSessions: 100_000,
};

/** `--full`: long windows everywhere and a million stored sessions. */
const FULL: ModeSettings = {
  headlineSeconds: 30,
  roundSeconds: 10,
  cellSeconds: 15,
  comparisonSeconds: 30,
  sideSeconds: 30,
  warmupSeconds: 3,
  storedSessions: 1_000_000,
};

/** Figures one benchmark publishes for the others. */
export interface SharedFigures {
  /** Ingest, 1 event per request, persister off, 50 connections (the headline cell). */
  ingestOff?: LoadResult;
  /** The same with the persister on, with the queue's growth over the window. */
  ingestOn?: LoadResult & { depthSlope: number };
  /** Bytes of Redis per queued entry, measured after the persister-off runs. */
  queueBytesPerEntry?: number;
  /** Bytes of one device's dedupe set (event ids of the last 10 minutes), sampled. */
  dedupeSetBytes?: number;
  /** Highest collector RSS seen under load, bytes, per labelled run. */
  rss: Record<string, number>;
  /** Bytes per stored session: INFO used_memory growth over the seeded sessions, and MEMORY USAGE. */
  sessionBytes?: { usedMemoryDelta: number; memoryUsage: number; sessions: number };
}

/** The run's shared state. */
export interface BenchContext {
  full: boolean;
  settings: ModeSettings;
  redisUrl: string;
  /** The run's own Postgres database. */
  databaseUrl: string;
  redis: Redis;
  /** The run's Redis key prefix: collectors, stores and the bench's own keys live under it. */
  prefix: string;
  /** Directory for `--cpu-prof` output of collectors, or null when not profiling. */
  profileDir: string | null;
  shared: SharedFigures;
  /** Starts a collector on the run's Redis prefix and Postgres database; stopped at the end of the run. */
  startCollector(env?: Record<string, string>): Promise<ServerProcess>;
  /** Deletes every key of the run (between sections, and at the end). */
  clearKeys(): Promise<void>;
}

/** Builds the context; `track` registers servers so the runner can stop them on any exit. */
export function createContext(options: {
  full: boolean;
  redisUrl: string;
  databaseUrl: string;
  redis: Redis;
  prefix: string;
  profileDir: string | null;
  track: (server: ServerProcess) => void;
}): BenchContext {
  const settings = options.full ? FULL : QUICK;
  return {
    full: options.full,
    settings,
    redisUrl: options.redisUrl,
    databaseUrl: options.databaseUrl,
    redis: options.redis,
    prefix: options.prefix,
    profileDir: options.profileDir,
    shared: { rss: {} },
    async startCollector(env = {}) {
      const server = await startCollector(
        {
          REDIS_URL: options.redisUrl,
          REDIS_KEY_PREFIX: options.prefix,
          DATABASE_URL: options.databaseUrl,
          ...env,
        },
        options.profileDir ? { cpuProfileDir: options.profileDir, profileName: 'collector' } : {},
      );
      options.track(server);
      return server;
    },
    clearKeys: () => clearBenchKeys(options.redis, options.prefix),
  };
}

/**
 * Runs `work` (a load run) against a server process, sampling its RSS every 250 ms; returns the
 * work's result, the peak RSS and the server's CPU seconds spent meanwhile.
 */
export async function withPeakRss<T>(
  server: Pick<ServerProcess, 'rss' | 'cpuSeconds'>,
  work: () => Promise<T>,
): Promise<{ result: T; peakRss: number; cpuSeconds: number | null }> {
  let peak = server.rss() ?? 0;
  const cpu0 = server.cpuSeconds();
  const timer = setInterval(() => {
    peak = Math.max(peak, server.rss() ?? 0);
  }, 250);
  try {
    const result = await work();
    peak = Math.max(peak, server.rss() ?? 0);
    const cpu1 = server.cpuSeconds();
    return { result, peakRss: peak, cpuSeconds: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 };
  } finally {
    clearInterval(timer);
  }
}
