/**
 * The fleet job in the persister's process (docs/protocol.md, Bots and automation): every five minutes,
 * `@devicelink/persister`'s `markFleets` judges the last window of sessions by network. Runs with the
 * bot filter on (`BOT_FILTER=on`), never on the request path.
 */
import { type Database, type FleetOptions, markFleets } from '@devicelink/persister';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';

/** How often a pass runs. */
const EVERY_MS = 5 * 60_000;
/** First pass after start: late enough not to compete with start-up work. */
const FIRST_PASS_MS = 90_000;

/** A running fleet schedule. */
export interface FleetRunner {
  /** Stops the schedule; a pass in flight is awaited. */
  stop(): Promise<void>;
}

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
  let stopped = false;
  let running: Promise<unknown> | null = null;
  let timer: NodeJS.Timeout;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      const started = Date.now();
      running = markFleets(db, options)
        .then((result) => {
          if (result.marked > 0 || result.restored > 0) {
            log.info({ fleet: result, ms: Date.now() - started }, 'fleet job: sessions reclassified');
          }
        })
        .catch((err: unknown) => log.warn({ err }, 'fleet job failed; retrying at the next pass'))
        .finally(() => {
          running = null;
          if (!stopped) schedule(EVERY_MS);
        });
    }, ms);
    timer.unref();
  };
  schedule(firstPassMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
