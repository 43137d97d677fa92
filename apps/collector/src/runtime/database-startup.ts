/**
 * Brings the database up: migrations at start-up, then the persister unless
 * `PERSISTER=off`. An unreachable Postgres at start-up does not stop ingest: migrations are retried in
 * the background and the persister starts once they succeed.
 */

import { createDb, createPersister, migrate, type Persister } from '@devicelink/persister';
import type { FastifyBaseLogger } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import type { CollectorResources } from './collector-resources.js';
import { type FleetRunner, startFleetJob } from './fleet-runner.js';
import { type RetentionRunner, startRetention } from './retention-runner.js';
import { displayAddress, oneLine, StartupError } from './startup-error.js';

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

/** Where the start-up migrations stand. */
export type MigrationState = 'applied' | 'pending' | 'failed';

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
  const leaseMs = config.persisterLeaseSeconds * 1000;
  // The persister's own sessions: every statement cut below half the lease time, so a pass that cannot
  // commit fails (and its persister steps down) within one lease. The read routes and retention keep
  // the shared pool, whose statements may legitimately take longer.
  const persisterDb =
    withPersister && resources.db.kind === 'postgres' && config.databaseUrl
      ? await createDb({
          databaseUrl: config.databaseUrl,
          maxConnections: 4,
          ...persisterSessionTimeouts(leaseMs),
        })
      : null;
  const persister = withPersister
    ? createPersister({
        db: (persisterDb ?? resources.db).db,
        queue: await resources.persisterQueue(),
        lookbackDays: config.conversionLookbackDays,
        leaseMs,
        onError: (err, context) => log.warn({ err }, `persister: ${context} error, retrying`),
        onOwnership: ({ taken, lost }) => {
          if (taken.length > 0) log.info({ partitions: taken }, 'persister: took partitions');
          if (lost.length > 0) log.info({ partitions: lost }, 'persister: gave up partitions');
        },
      })
    : null;
  let stopped = false;
  let wake: (() => void) | null = null;
  let state: MigrationState = 'pending';

  const attempt = async (): Promise<boolean> => {
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

  // Retention runs where the persister runs (docs/protocol.md, Erasure), once the schema is there.
  let retention: RetentionRunner | null = null;
  // So does the fleet job (docs/protocol.md, Bots and automation), with the bot filter on.
  let fleets: FleetRunner | null = null;
  const startPersisting = () => {
    persister?.start();
    if (persister && config.retentionDays !== null) {
      retention = startRetention(resources.db.db, config.retentionDays, log);
    }
    if (persister && config.botFilter.enabled)
      fleets = startFleetJob(resources.db.db, config.botFilter.fleet, log);
  };
  let retrying: Promise<void> | null = null;
  let first: boolean;
  try {
    first = await attempt();
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
  if (first) {
    state = 'applied';
    startPersisting();
  } else {
    retrying = (async () => {
      let delay = 500;
      while (!stopped) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        if (stopped) return;
        let ok: boolean;
        try {
          ok = await attempt();
        } catch (err) {
          // Not an outage: a broken migration. Retrying will not fix it; say so loudly and stop trying.
          state = 'failed';
          log.error({ err }, 'database migration failed; the persister stays off until a restart');
          return;
        }
        // stop() may have run (and closed the pool after it) while the attempt was in flight.
        if (stopped) return;
        if (ok) {
          state = 'applied';
          startPersisting();
          return;
        }
        delay = Math.min(delay * 2, 5_000);
      }
    })();
  }
  return {
    persister,
    migrations: () => state,
    async stop() {
      stopped = true;
      (wake as (() => void) | null)?.();
      // An attempt in flight finishes before the pool closes, and then starts nothing.
      await retrying;
      await (retention as RetentionRunner | null)?.stop();
      await (fleets as FleetRunner | null)?.stop();
      // Shutdown persists what is queued (bounded, so a Postgres outage cannot hold the exit).
      await persister?.stop({ drainMs: SHUTDOWN_DRAIN_MS });
      await persisterDb?.close();
    },
  };
}
