/**
 * The refusal of a partition-leased queue call (`queue-consumer.ts`, `partition-leases.ts`): thrown by
 * the store, handled by the persister. The protocol is bundled into each package, so every package has
 * its own copy of this class: recognise it with {@link isLeaseLostError} (by name), never `instanceof`.
 */

/**
 * The caller no longer holds the lease of a queue partition (it expired while the caller was frozen
 * or slow, or another member took it): the call did nothing. The persister drops the partition.
 */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  readonly partition: number;

  constructor(partition: number) {
    super(`the lease of queue partition ${partition} is not held by this consumer`);
    this.partition = partition;
  }
}

/** True for a {@link LeaseLostError}, also across copies of the class (checks the name). */
export function isLeaseLostError(error: unknown): error is LeaseLostError {
  return (error as { name?: unknown } | null)?.name === 'LeaseLostError';
}
