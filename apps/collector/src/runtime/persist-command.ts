/**
 * `npm start -- persist`: the persister alone (no HTTP), for deployments that run ingest-only
 * collectors (`PERSISTER=off`) and a separate persister. Stops on SIGTERM/SIGINT after the batch in hand.
 */
import Fastify from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import { openResources } from './collector-resources.js';
import { startDatabase } from './database-startup.js';

/**
 * Runs until a signal; resolves after a clean stop. `onSignal` runs when the signal arrives (server.ts
 * arms its shutdown deadline there).
 */
export async function runPersisterOnly(config: CollectorConfig, onSignal?: () => void): Promise<void> {
  // Fastify's logger (pino) without a server: the same log format as the collector.
  const log = Fastify({ logger: { level: config.logLevel } }).log;
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
