/**
 * Samples the oldest queued entry of every partition, so the persister's lag counts entries no one
 * has read yet (a backlog behind a slow or down Postgres, or partitions nobody owns).
 */
import type { QueueConsumer } from '@devicelink/protocol';
import { PeriodicTask } from './periodic-task.js';

/** A probe loop: `start()`, `stop()`; `oldest` is the last sample (null: empty or not probed yet). */
export class LagProbe {
  readonly #queue: QueueConsumer;
  readonly #task: PeriodicTask;
  /** Oldest queue time among all partitions at the last probe. */
  oldest: number | null = null;

  constructor(queue: QueueConsumer, everyMs: number) {
    this.#queue = queue;
    this.#task = new PeriodicTask(everyMs, () => this.#probe(), { unref: true });
  }

  start(): void {
    this.#task.start();
  }

  stop(): Promise<void> {
    return this.#task.stop();
  }

  async #probe(): Promise<void> {
    const queue = this.#queue;
    try {
      const found = await Promise.all(Array.from({ length: queue.partitions }, (_, p) => queue.oldest(p)));
      let oldest: number | null = null;
      for (const ts of found) if (ts !== null && (oldest === null || ts < oldest)) oldest = ts;
      this.oldest = oldest;
    } catch {
      // The persist loop reports queue errors; the last sample stands meanwhile.
    }
  }
}
