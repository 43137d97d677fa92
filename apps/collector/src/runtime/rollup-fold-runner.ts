/**
 * The roll-up folding job in the persister's process (`@devicelink/persister`'s `foldRollups`): every
 * five minutes, each past hour with more distinct pages or referrer origins than
 * `ROLLUP_KEYS_PER_HOUR` keeps the most viewed by name and the rest under `(other)`, so the roll-ups
 * do not grow with every new URL. One persister folds at a time (an advisory lock); never on the
 * request path.
 */
import { type Database, foldRollups } from '@devicelink/persister';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { type PeriodicJob, startPeriodicJob } from './periodic-job.js';

/** How often a run starts. */
const EVERY_MS = 5 * 60_000;
/** First run after start: late enough not to compete with start-up work. */
const FIRST_RUN_MS = 60_000;

/** A running schedule. */
export type RollupFoldRunner = PeriodicJob;

/**
 * Starts the schedule.
 *
 * @example
 * const folding = startRollupFolding(db, 100, log);
 * await folding.stop();
 */
export function startRollupFolding(
  db: Kysely<Database>,
  keysPerHour: number,
  log: FastifyBaseLogger,
  firstRunMs = FIRST_RUN_MS,
): RollupFoldRunner {
  return startPeriodicJob(
    async () => {
      const started = Date.now();
      const result = await foldRollups(db, { keysPerHour });
      if (result.folded > 0) log.info({ rollups: result, ms: Date.now() - started }, 'roll-up hours folded');
    },
    { firstMs: firstRunMs, everyMs: EVERY_MS },
    log,
    'roll-up folding failed; retrying at the next run',
  );
}
