/**
 * Appending records straight onto the queue is for tests only (every real record is written by the
 * store's own operations, atomically with the session change). Backends keep it under this symbol, out
 * of every public interface; `appendForTest` (the `@devicelink/fastify/testing` entry) reaches it.
 */
import type { QueueRecord } from '@devicelink/protocol';

/** The key of a backend's test-only append. */
export const kAppend = Symbol.for('@devicelink/fastify.append');

/** A backend object with the test-only append. */
export interface TestAppendable {
  [kAppend](partitionKey: string, records: QueueRecord[]): Promise<void>;
}
