/**
 * Retention in the persister's process (`RETENTION_DAYS`): one purge shortly after start, then every
 * hour, each in bounded batches (see `@devicelink/persister`'s `purgeExpired`). Also the one-pass
 * `npm start -- purge`.
 */
import { type Database, type PurgeResult, purgeExpired } from '@devicelink/persister';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';

const HOUR = 3_600_000;
/** First pass after start: late enough not to compete with start-up work. */
const FIRST_PASS_MS = 60_000;

/** A running retention schedule. */
export interface RetentionRunner {
  /** Stops the schedule; a pass in flight stops at its next batch and is awaited. */
  stop(): Promise<void>;
}

/** Runs one retention pass and logs what it removed. */
export async function purgeOnce(
  db: Kysely<Database>,
  retentionDays: number,
  log: FastifyBaseLogger,
  signal?: AbortSignal,
): Promise<PurgeResult> {
  const started = Date.now();
  const result = await purgeExpired(db, { retentionDays, ...(signal ? { signal } : {}) });
  log.info(
    { retention: result, ms: Date.now() - started },
    `retention: removed rows older than ${result.cutoff}`,
  );
  return result;
}

/**
 * Starts the hourly schedule.
 *
 * @example
 * const retention = startRetention(db, 400, log);
 * await retention.stop();
 */
export function startRetention(
  db: Kysely<Database>,
  retentionDays: number,
  log: FastifyBaseLogger,
  firstPassMs = FIRST_PASS_MS,
): RetentionRunner {
  const abort = new AbortController();
  let running: Promise<unknown> | null = null;
  let timer: NodeJS.Timeout;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      running = purgeOnce(db, retentionDays, log, abort.signal)
        .catch((err: unknown) => log.warn({ err }, 'retention pass failed; retrying in an hour'))
        .finally(() => {
          running = null;
          if (!abort.signal.aborted) schedule(HOUR);
        });
    }, ms);
    timer.unref();
  };
  schedule(firstPassMs);
  return {
    async stop() {
      abort.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
