/**
 * Brings the database up: migrations at start-up, then the persister unless
 * `PERSISTER=off`. An unreachable Postgres at start-up does not stop ingest: migrations are retried in
 * the background and the persister starts once they succeed.
 */

import { createDb, createPersister, migrate, type Persister, type PersisterDb } from '@devicelink/persister';
import type { FastifyBaseLogger } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import type { CollectorResources } from './collector-resources.js';
import { type FleetRunner, startFleetJob } from './fleet-runner.js';
import { type MigrationAttempt, MigrationRetry, type MigrationState } from './migration-retry.js';
import { type RetentionRunner, startRetention } from './retention-runner.js';
import { type RollupFoldRunner, startRollupFolding } from './rollup-fold-runner.js';
import { displayAddress, oneLine, StartupError } from './startup-error.js';
import { repeatedErrorLog } from './throttled-log.js';

/** `DATABASE_URL (postgres://user:***@host/db)` or the data dir, for log lines. */
function databaseLabel(config: CollectorConfig): string {
  return config.databaseUrl
    ? `DATABASE_URL (${displayAddress(config.databaseUrl)})`
    : `DATA_DIR (${config.dataDir})`;
}

/**
 * The Postgres timeouts of a persister's sessions for a lease of `leaseMs`: statements (server side,
 * and the client's wait for an answer on a half-open connection) are cut at 40% of the lease, so two
 * failed attempts fit in one lease and the persister steps down within it; a lock is waited for at
 * most a quarter of it (2.5 s at most); a transaction left idle (a frozen process) ends at half.
 */
export function persisterSessionTimeouts(leaseMs: number) {
  return {
    statementTimeoutMs: Math.floor(leaseMs * 0.4),
    queryTimeoutMs: Math.floor(leaseMs * 0.45),
    lockTimeoutMs: Math.min(2_500, Math.floor(leaseMs / 4)),
    idleInTransactionTimeoutMs: Math.floor(leaseMs / 2),
  };
}

/** How long a stopping collector keeps persisting what is queued. */
const SHUTDOWN_DRAIN_MS = 10_000;

/** The running database side of a collector. */
export interface DatabaseRuntime {
  persister: Persister | null;
  /**
   * `applied`: the schema is current; `pending`: Postgres was unreachable and migrations are retried;
   * `failed`: a background attempt failed with something other than a connection problem (logged at
   * error level; the persister stays off). Shown by `/readyz`.
   */
  migrations(): MigrationState;
  /** Stops any retry loop and the persister, after it drained what is queued (at most 10 s). */
  stop(): Promise<void>;
}

/**
 * Migrates (retrying while Postgres is unreachable) and starts the persister when `withPersister`.
 * Rejects only when the first attempt fails with something other than a connection problem.
 */
export async function startDatabase(
  config: CollectorConfig,
  resources: CollectorResources,
  log: FastifyBaseLogger,
  withPersister = config.persister,
): Promise<DatabaseRuntime> {
  const persisterDb = withPersister ? await openPersisterDb(config, resources) : null;
  const persister = withPersister ? await startPersister(config, resources, persisterDb, log) : null;
  const jobs = new PersisterJobs(config, resources, persister, log);
  const migrations = new MigrationRetry(migrationAttempt(config, resources, log), () => jobs.start(), log);
  try {
    await migrations.start();
  } catch (err) {
    // Not an outage (a database that does not exist, a refused password, a broken migration): one line
    // naming the variable, the process exits.
    throw new StartupError(
      config.databaseUrl ? 'DATABASE_URL' : 'DATA_DIR',
      config.databaseUrl ? displayAddress(config.databaseUrl) : config.dataDir,
      `the database cannot be used (${oneLine(err)})`,
      { cause: err },
    );
  }
  return {
    persister,
    migrations: () => migrations.state,
    async stop() {
      // An attempt in flight finishes before the pool closes, and then starts nothing.
      await migrations.stop();
      await jobs.stop();
      // Shutdown persists what is queued (bounded, so a Postgres outage cannot hold the exit).
      await persister?.stop({ drainMs: SHUTDOWN_DRAIN_MS });
      await persisterDb?.close();
    },
  };
}

/**
 * The persister's own sessions on Postgres: every statement cut below half the lease time, so a pass
 * that cannot commit fails (and its persister steps down) within one lease. The read routes and
 * retention keep the shared pool, whose statements may legitimately take longer. Null: the shared one.
 */
async function openPersisterDb(
  config: CollectorConfig,
  resources: CollectorResources,
): Promise<PersisterDb | null> {
  if (resources.db.kind !== 'postgres' || !config.databaseUrl) return null;
  return createDb({
    databaseUrl: config.databaseUrl,
    maxConnections: 4,
    ...persisterSessionTimeouts(config.persisterLeaseSeconds * 1000),
  });
}

/** Creates the persister (started once the schema is there). */
async function startPersister(
  config: CollectorConfig,
  resources: CollectorResources,
  persisterDb: PersisterDb | null,
  log: FastifyBaseLogger,
): Promise<Persister> {
  const warnRepeated = repeatedErrorLog(log);
  return createPersister({
    db: (persisterDb ?? resources.db).db,
    queue: await resources.persisterQueue(),
    leaseMs: config.persisterLeaseSeconds * 1000,
    // A failure repeats on every pass and partition: one line per kind and 10 s, one stack.
    onError: (err, context) => warnRepeated(err, context, `persister: ${context} error, retrying`),
    onOwnership: ({ taken, lost }) => {
      if (taken.length > 0) log.info({ partitions: taken }, 'persister: took partitions');
      if (lost.length > 0) log.info({ partitions: lost }, 'persister: gave up partitions');
    },
  });
}

/** One migration attempt; a connection failure is an outage to wait out (false), anything else throws. */
function migrationAttempt(
  config: CollectorConfig,
  resources: CollectorResources,
  log: FastifyBaseLogger,
): MigrationAttempt {
  return async () => {
    try {
      const applied = await resources.db.maintenance(migrate);
      if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      // Connection failures are an outage to wait out; anything else (a broken migration) stops the start.
      if (
        !/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|57P03|08\w{3})$/.test(code) &&
        !/timeout|terminated|connect/i.test(String((err as Error).message))
      ) {
        throw err;
      }
      log.warn(
        `${databaseLabel(config)}: database unreachable (${oneLine(err)}); retrying migrations in the background`,
      );
      return false;
    }
  };
}

/**
 * The persister and the jobs that run where it runs, once the schema is there: retention
 * (docs/protocol.md, Erasure), the fleet job with the bot filter on (docs/protocol.md, Bots and
 * automation) and the folding of roll-up hours past ROLLUP_KEYS_PER_HOUR distinct pages.
 */
class PersisterJobs {
  #retention: RetentionRunner | null = null;
  #fleets: FleetRunner | null = null;
  #folding: RollupFoldRunner | null = null;

  constructor(
    private readonly config: CollectorConfig,
    private readonly resources: CollectorResources,
    private readonly persister: Persister | null,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Starts the persister and its jobs (nothing without a persister). */
  start(): void {
    const { config, log, persister } = this;
    if (!persister) return;
    const db = this.resources.db.db;
    persister.start();
    if (config.retentionDays !== null) this.#retention = startRetention(db, config.retentionDays, log);
    if (config.botFilter.enabled) this.#fleets = startFleetJob(db, config.botFilter.fleet, log);
    this.#folding = startRollupFolding(db, config.rollupKeysPerHour, log);
  }

  /** Stops the jobs (the persister is stopped by its owner, after them). */
  async stop(): Promise<void> {
    await this.#retention?.stop();
    await this.#fleets?.stop();
    await this.#folding?.stop();
  }
}
