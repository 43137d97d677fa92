/**
 * @devicelink/fastify/testing: what tests of code built on the stores need and applications never
 * should. Real records are written by the store's own operations, atomically with the session change.
 */
import type { QueueRecord } from '@devicelink/protocol';

export { BOT_USER_AGENTS } from './plugin/bot-user-agents.fixture.js';

import { kAppend, type TestAppendable } from './store/test-append.js';

/**
 * Appends `records` straight onto the queue partition of `partitionKey` (a device or user id) of a
 * store made by `createRedisStore` or `createMemoryStore`, bypassing every check of the request path
 * (e.g. to queue a record Postgres will refuse).
 *
 * @example
 * await appendForTest(store, deviceId, [{ kind: 'erase', deviceId, ts: Date.now() }]);
 */
export function appendForTest(store: object, partitionKey: string, records: QueueRecord[]): Promise<void> {
  const append = (store as Partial<TestAppendable>)[kAppend];
  if (typeof append !== 'function') {
    throw new TypeError('appendForTest needs a store made by createRedisStore or createMemoryStore');
  }
  return append(partitionKey, records);
}
