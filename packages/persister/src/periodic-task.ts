/**
 * A round repeated in the background of a persister (the lease keeper's ownership rounds, the lag
 * probe), beside its pass loop: `start()`, `stop()`, and `wake()` for a round now.
 */
import { WakeablePause } from './wakeable-pause.js';

/** Runs `round` every `everyMs` (from the end of one to the start of the next) until `stop()`. */
export class PeriodicTask {
  readonly #everyMs: number;
  readonly #round: () => Promise<void>;
  readonly #unref: boolean;
  readonly #pause = new WakeablePause();
  #loop: Promise<void> | null = null;
  #stopping = false;

  /** `round` must not throw; `unref`: the pauses do not keep the process alive. */
  constructor(everyMs: number, round: () => Promise<void>, options: { unref?: boolean } = {}) {
    this.#everyMs = everyMs;
    this.#round = round;
    this.#unref = options.unref ?? false;
  }

  /** Whether rounds run (between `start()` and `stop()`). */
  get running(): boolean {
    return this.#loop !== null;
  }

  start(): void {
    this.#stopping = false;
    this.#loop ??= this.#run();
  }

  /** Runs the next round without waiting out the pause. */
  wake(): void {
    this.#pause.wake();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#pause.wake();
    await this.#loop;
    this.#loop = null;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      await this.#round();
      await this.#pause.sleep(this.#everyMs, { unref: this.#unref });
    }
  }
}
