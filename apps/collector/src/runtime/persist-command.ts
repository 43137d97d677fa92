/**
 * `npm start -- persist`: the persister alone (no HTTP), for deployments that run ingest-only
 * collectors (`PERSISTER=off`) and a separate persister. Stops on SIGTERM/SIGINT after the batch in hand.
 * `npm start -- purge`: one retention pass, then exit.
 */
import { createDb, migrate, type PurgeResult } from '@devicelink/persister';
import Fastify from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import { ConfigError } from '../config/config-error.js';
import { lockDataDir } from '../embedded/data-dir-lock.js';
import { openResources } from './collector-resources.js';
import { startDatabase } from './database-startup.js';
import { errorLogSerializer } from './error-log.js';
import { purgeOnce } from './retention-runner.js';

/**
 * Runs until a signal; resolves after a clean stop. `onSignal` runs when the signal arrives (server.ts
 * arms its shutdown deadline there).
 */
export async function runPersisterOnly(config: CollectorConfig, onSignal?: () => void): Promise<void> {
  // Fastify's logger (pino) without a server: the same log format as the collector, errors without
  // their commands' keys or their rows' values.
  const log = Fastify({ logger: { level: config.logLevel, serializers: { err: errorLogSerializer } } }).log;
  const resources = await openResources(config, log);
  const database = await startDatabase(config, resources, log, true);
  log.info(`devicelink persister running (${resources.mode})`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      onSignal?.();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  log.info('stopping the persister');
  await database.stop();
  await resources.close();
}

/**
 * `npm start -- purge`: one retention pass (`RETENTION_DAYS` required), then exit. Migrates first, so
 * it runs against a database of any age.
 */
export async function runPurgeOnce(config: CollectorConfig): Promise<PurgeResult> {
  if (config.retentionDays === null) {
    throw new ConfigError(
      'RETENTION_DAYS',
      'is required by the purge command (rows older than it are removed)',
    );
  }
  const log = Fastify({ logger: { level: config.logLevel, serializers: { err: errorLogSerializer } } }).log;
  // Embedded PGlite is one process at a time: a running collector on DATA_DIR makes this fail clearly.
  const lock = config.databaseUrl ? null : lockDataDir(config.dataDir);
  try {
    const database = await createDb(config);
    try {
      await database.maintenance(migrate);
      return await purgeOnce(database.db, config.retentionDays, log);
    } finally {
      await database.close();
    }
  } finally {
    await lock?.release();
  }
}
