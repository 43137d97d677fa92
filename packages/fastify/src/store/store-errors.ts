/**
 * Errors the stores throw at start-up or under overload; all extend DeviceLinkPluginError and speak in the
 * store's option names (an application maps them to its own configuration names).
 */
import { DeviceLinkOptionsError, DeviceLinkPluginError } from '../errors.js';

/**
 * The partition count stored (in Redis, or in the embedded queue's journal) differs from the
 * `partitions` option: starting would move devices to other partitions while their entries are
 * queued, so start-up is refused.
 */
export class QueuePartitionsMismatchError extends DeviceLinkOptionsError {
  override name = 'QueuePartitionsMismatchError';
  readonly stored: number;
  readonly configured: number;

  constructor(stored: number, configured: number, where = 'this Redis was') {
    super(
      'partitions',
      `is ${configured} but ${where} set up with ${stored}: changing it would move devices to other ` +
        `partitions while their entries are queued (pass partitions: ${stored})`,
    );
    this.stored = stored;
    this.configured = configured;
  }
}

/**
 * The embedded queue holds `maxQueued` unacknowledged records (the persister is behind, e.g. Postgres
 * is down): nothing was written; the caller answers 503 and the client retries later.
 */
export class QueueFullError extends DeviceLinkPluginError {
  override name = 'QueueFullError';
  readonly maxQueued: number;

  constructor(maxQueued: number) {
    super(`the embedded event queue is full (${maxQueued} records not yet persisted)`);
    this.maxQueued = maxQueued;
  }
}
