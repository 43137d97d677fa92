/**
 * Start-up migrations that wait out a database outage: the first attempt runs at once; while Postgres
 * is unreachable, further attempts run in the background (0.5 s, doubling to 5 s), and the work that
 * needs the schema starts once one succeeds.
 */
import type { FastifyBaseLogger } from 'fastify';

/** Where the start-up migrations stand. */
export type MigrationState = 'applied' | 'pending' | 'failed';

/** Migrates once: true when applied, false on a connection problem; throws on anything else. */
export type MigrationAttempt = () => Promise<boolean>;

/** The migrations of one collector, retried in the background after an outage. */
export class MigrationRetry {
  #state: MigrationState = 'pending';
  #stopped = false;
  #wake: (() => void) | null = null;
  #retrying: Promise<void> | null = null;

  /**
   * @param attempt one migration attempt
   * @param onApplied starts what needs the schema (once, after the first success)
   */
  constructor(
    private readonly attempt: MigrationAttempt,
    private readonly onApplied: () => void,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Where the migrations stand (shown by `/readyz`). */
  get state(): MigrationState {
    return this.#state;
  }

  /**
   * Runs the first attempt; on a connection problem keeps retrying in the background. Rejects when the
   * first attempt fails with something else.
   */
  async start(): Promise<void> {
    if (await this.attempt()) this.#applied();
    else this.#retrying = this.#retry();
  }

  /** Stops retrying; an attempt in flight finishes first (and then starts nothing). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#retrying;
  }

  #applied(): void {
    this.#state = 'applied';
    this.onApplied();
  }

  async #retry(): Promise<void> {
    let delay = 500;
    while (!this.#stopped) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      if (this.#stopped) return;
      let ok: boolean;
      try {
        ok = await this.attempt();
      } catch (err) {
        // Not an outage: a broken migration. Retrying will not fix it; say so loudly and stop trying.
        this.#state = 'failed';
        this.log.error({ err }, 'database migration failed; the persister stays off until a restart');
        return;
      }
      // stop() may have run (and closed the pool after it) while the attempt was in flight.
      if (this.#stopped) return;
      if (ok) {
        this.#applied();
        return;
      }
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
