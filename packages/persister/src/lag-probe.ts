/**
 * Samples the oldest queued entry of every partition, so the persister's lag counts entries no one
 * has read yet (a backlog behind a slow or down Postgres, or partitions nobody owns).
 */
import type { QueueConsumer } from '@devicelink/protocol';

/** A probe loop: `start()`, `stop()`; `oldest` is the last sample (null: empty or not probed yet). */
export class LagProbe {
  readonly #queue: QueueConsumer;
  readonly #everyMs: number;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;
  /** Oldest queue time among all partitions at the last probe. */
  oldest: number | null = null;

  constructor(queue: QueueConsumer, everyMs: number) {
    this.#queue = queue;
    this.#everyMs = everyMs;
  }

  start(): void {
    this.#stopping = false;
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
  }

  async #run(): Promise<void> {
    const queue = this.#queue;
    while (!this.#stopping) {
      try {
        const found = await Promise.all(Array.from({ length: queue.partitions }, (_, p) => queue.oldest(p)));
        let oldest: number | null = null;
        for (const ts of found) if (ts !== null && (oldest === null || ts < oldest)) oldest = ts;
        this.oldest = oldest;
      } catch {
        // The persist loop reports queue errors; the last sample stands meanwhile.
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#everyMs);
        timer.unref();
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
