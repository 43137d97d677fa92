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

/** How often a run starts. */
const EVERY_MS = 5 * 60_000;
/** First run after start: late enough not to compete with start-up work. */
const FIRST_RUN_MS = 60_000;

/** A running folding schedule. */
export interface RollupFoldRunner {
  /** Stops the schedule; a run in flight is awaited. */
  stop(): Promise<void>;
}

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
  let stopped = false;
  let running: Promise<unknown> | null = null;
  let timer: NodeJS.Timeout;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      const started = Date.now();
      running = foldRollups(db, { keysPerHour })
        .then((result) => {
          if (result.folded > 0) {
            log.info({ rollups: result, ms: Date.now() - started }, 'roll-up hours folded');
          }
        })
        .catch((err: unknown) => log.warn({ err }, 'roll-up folding failed; retrying at the next run'))
        .finally(() => {
          running = null;
          if (!stopped) schedule(EVERY_MS);
        });
    }, ms);
    timer.unref();
  };
  schedule(firstRunMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
