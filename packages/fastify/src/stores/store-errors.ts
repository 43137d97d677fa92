/**
 * Errors the stores throw at start-up or under overload; both extend DeviceLinkError.
 */
import { DeviceLinkError } from '../errors.js';

/**
 * The partition count stored (in Redis, or in the embedded queue's journal) differs from the
 * configured one: starting would move devices to other partitions while their entries are queued, so
 * start-up is refused.
 */
export class QueuePartitionsMismatchError extends DeviceLinkError {
  override name = 'QueuePartitionsMismatchError';
  readonly stored: number;
  readonly configured: number;

  constructor(stored: number, configured: number, where = 'this Redis was') {
    super(
      `QUEUE_PARTITIONS is ${configured} but ${where} set up with ${stored}: changing it would move ` +
        `devices to other partitions while their entries are queued. Set QUEUE_PARTITIONS=${stored}.`,
    );
    this.stored = stored;
    this.configured = configured;
  }
}

/**
 * The embedded queue holds `maxQueued` unacknowledged records (the persister is behind, e.g. Postgres
 * is down): nothing was written; the caller answers 503 and the client retries later.
 */
export class QueueFullError extends DeviceLinkError {
  override name = 'QueueFullError';
  readonly maxQueued: number;

  constructor(maxQueued: number) {
    super(`the embedded event queue is full (${maxQueued} records not yet persisted)`);
    this.maxQueued = maxQueued;
  }
}
