/**
 * A job the persister's process runs on a timer, never on the request path (the fleet job, roll-up
 * folding): one run at a time, the next scheduled when it ends, a failure logged and retried at the
 * next run, and `stop()` awaiting a run in flight.
 */
import type { FastifyBaseLogger } from 'fastify';

/** A running schedule. */
export interface PeriodicJob {
  /** Stops the schedule; a run in flight is awaited. */
  stop(): Promise<void>;
}

/**
 * Starts `run` after `firstMs`, then `everyMs` after each run ends; `failure` is the warning logged
 * when a run rejects.
 *
 * @example
 * const job = startPeriodicJob(() => markFleets(db, options), { firstMs: 90_000, everyMs: 300_000 }, log, 'fleet job failed');
 * await job.stop();
 */
export function startPeriodicJob(
  run: () => Promise<void>,
  timing: { firstMs: number; everyMs: number },
  log: FastifyBaseLogger,
  failure: string,
): PeriodicJob {
  let stopped = false;
  let running: Promise<unknown> | null = null;
  let timer: NodeJS.Timeout;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      running = run()
        .catch((err: unknown) => log.warn({ err }, failure))
        .finally(() => {
          running = null;
          if (!stopped) schedule(timing.everyMs);
        });
    }, ms);
    timer.unref();
  };
  schedule(timing.firstMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
