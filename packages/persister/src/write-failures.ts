/**
 * What a failed write means for the persister. A transient failure (Postgres unreachable, restarting,
 * out of resources, a serialization conflict) is retried with the same entries; any other failure is
 * about the entries themselves (a value Postgres refuses, or a record the code cannot handle), so
 * retrying the same pass would fail forever and stop every partition it spans: the pass is isolated
 * instead (`isolating-writer.ts`).
 */

/**
 * SQLSTATE classes worth retrying (PostgreSQL, Appendix A): 08 connection exception, 40 transaction
 * rollback (serialization failure, deadlock), 53 insufficient resources, 57 operator intervention
 * (admin shutdown, a statement cancelled by `statement_timeout`), 58 system error.
 */
const TRANSIENT_SQLSTATE = /^(08|40|53|57|58)[0-9A-Z]{3}$/;

/** Node.js socket errors: the connection, not the data. */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** node-postgres and pg-pool errors that carry no code (connection lost, pool timeout). */
const TRANSIENT_MESSAGES =
  /connection terminated|connection timeout|timeout exceeded when trying to connect|client has encountered a connection error|cannot use a pool after calling end|client was closed/i;

/**
 * True for a failure that says nothing about the entries written: the same write may succeed later.
 *
 * @example
 * isTransientError({ code: '08006' }); // true: connection failure
 * isTransientError({ code: '22021' }); // false: Postgres refuses the data
 * isTransientError(new TypeError('x')); // false: a record the code cannot handle
 */
export function isTransientError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_SOCKET_CODES.has(code))) {
    return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && TRANSIENT_MESSAGES.test(message);
}

/**
 * Whether Postgres refused the data itself (SQLSTATE class 22, data exception, or 23, integrity
 * constraint violation). Kept for the dead-letter replay, which reports such records back.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

/**
 * A pass that would dead-letter more entries than its limit: more likely a bug or a schema drift than
 * that many bad records, so nothing is dead-lettered or acknowledged and the persister reports it.
 */
export class DeadLetterLimitError extends Error {
  override name = 'DeadLetterLimitError';
  constructor(
    readonly failing: number,
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(
      `${failing} entries of one pass failed alone (limit ${limit}): stopped instead of dead-lettering them; ` +
        'see the cause, fix it, and the persister carries on by itself',
      options,
    );
  }
}
