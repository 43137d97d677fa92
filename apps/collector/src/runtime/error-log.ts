/**
 * What a log line keeps of an error (pino's `serializers.err` of every logger of the collector): its
 * type, code, message and stack, and its cause's message. ioredis errors carry the command's arguments
 * (keys naming devices, queued records) and Postgres errors the row's values (`detail`): they stay out,
 * so no log line holds a raw user or device id.
 */

/** What an error's log line keeps (the shape Fastify's logger types ask of `serializers.err`). */
export interface LoggedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
  code?: string;
  cause?: string;
}

/**
 * pino's `serializers.err`: an error as type, code, message and stack, its cause as a message. pino
 * hands it whatever was logged under `err`: a value that is not an Error (a summary already) is kept
 * as it is.
 */
export function errorLogSerializer(err: Error): LoggedError {
  if (!(err instanceof Error)) return err as unknown as LoggedError;
  const code = (err as { code?: unknown }).code;
  const out: LoggedError = { type: err.name, message: err.message, stack: err.stack ?? '' };
  if (typeof code === 'string') out.code = code;
  if (err.cause instanceof Error) out.cause = err.cause.message;
  else if (typeof err.cause === 'string') out.cause = err.cause;
  return out;
}
