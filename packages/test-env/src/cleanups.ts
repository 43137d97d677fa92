/**
 * Cleanups registered while a test sets itself up and run after it, last registered first, each
 * one even when an earlier one fails (the first failure is rethrown at the end).
 */
export class Cleanups {
  readonly #fns: Array<() => unknown> = [];

  /** Registers `fn`. */
  add(fn: () => unknown): void {
    this.#fns.push(fn);
  }

  /** Runs and forgets every registered cleanup, last first. */
  async run(): Promise<void> {
    let failure: unknown;
    for (const fn of this.#fns.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
