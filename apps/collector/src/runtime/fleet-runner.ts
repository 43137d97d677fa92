/**
 * The fleet job in the persister's process (docs/protocol.md, Bots and automation): every five minutes,
 * `@devicelink/persister`'s `markFleets` judges the last window of sessions by network. Runs with the
 * bot filter on (`BOT_FILTER=on`), never on the request path.
 */
import { type Database, type FleetOptions, markFleets } from '@devicelink/persister';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { type PeriodicJob, startPeriodicJob } from './periodic-job.js';

/** How often a pass runs. */
const EVERY_MS = 5 * 60_000;
/** First pass after start: late enough not to compete with start-up work. */
const FIRST_PASS_MS = 90_000;

/** A running schedule. */
export type FleetRunner = PeriodicJob;

/**
 * Starts the schedule.
 *
 * @example
 * const fleets = startFleetJob(db, config.fleet, log);
 * await fleets.stop();
 */
export function startFleetJob(
  db: Kysely<Database>,
  options: FleetOptions,
  log: FastifyBaseLogger,
  firstPassMs = FIRST_PASS_MS,
): FleetRunner {
  return startPeriodicJob(
    async () => {
      const started = Date.now();
      const result = await markFleets(db, options);
      if (result.marked > 0 || result.restored > 0) {
        log.info({ fleet: result, ms: Date.now() - started }, 'fleet job: sessions reclassified');
      }
    },
    { firstMs: firstPassMs, everyMs: EVERY_MS },
    log,
    'fleet job failed; retrying at the next pass',
  );
}
