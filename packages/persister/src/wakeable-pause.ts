/**
 * The pause between two rounds of the persister's loops (passes, lease keeping, lag probes): a stop,
 * or news that the next round should run now, cuts it short.
 */

/** One loop's pause: `sleep(ms)`, cut short by `wake()`. */
export class WakeablePause {
  #wake: (() => void) | null = null;

  /**
   * Resolves after `ms`, or at the next `wake()`. An `unref` pause does not keep the process alive (a
   * probe nobody awaits).
   */
  sleep(ms: number, options: { unref?: boolean } = {}): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (options.unref) timer.unref();
      this.#wake = done;
    });
  }

  /** Ends the pause in progress, if any. */
  wake(): void {
    this.#wake?.();
  }
}
