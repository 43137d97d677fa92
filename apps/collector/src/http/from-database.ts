/** Reads of the read and admin routes, where a database failure is a 503 (`DL_DATABASE_UNAVAILABLE`). */
import { databaseUnavailable } from './errors.js';

/**
 * Runs a read; a database failure is a 503 (the collector's own 4xx errors pass through).
 *
 * @example
 * return fromDatabase(() => readAudit(db, cursor, limit));
 */
export async function fromDatabase<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (String((err as { code?: unknown }).code).startsWith('DL_')) throw err;
    throw databaseUnavailable(err);
  }
}
