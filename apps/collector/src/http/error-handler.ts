/**
 * Maps every error to Fastify's shape with a `DL_` code: Fastify's own client errors (bad JSON, body
 * too large, wrong content type, schema validation) get the collector's codes, and anything unexpected
 * is logged and answered as a 500 without internals. A 4xx is the client's error: one info line with
 * its code, no stack; a 5xx is logged at error level with the stack.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import { logGate } from '../runtime/throttled-log.js';
import {
  BodyTooLargeError,
  InternalError,
  InvalidBodyError,
  InvalidRequestError,
  NotFoundError,
  RateLimitedError,
  UnsupportedMediaTypeError,
} from './errors.js';
import { noteRefusal } from './request-log.js';

function translate(err: FastifyError): FastifyError {
  if (err.code?.startsWith('DL_')) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BodyTooLargeError(String(64 * 1024));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError('of this request');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InvalidRequestError('Content-Length does not match the body length');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InvalidBodyError('body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InvalidBodyError('body is not valid JSON');
    case 'FST_ERR_VALIDATION':
      return new InvalidRequestError(err.message);
  }
  if (err.statusCode === 429) return new RateLimitedError(err.message);
  // JSON.parse errors from Fastify's default parser carry statusCode 400 and no code.
  if (err.statusCode === 400 && err instanceof SyntaxError) {
    return new InvalidBodyError('body is not valid JSON');
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    // Keep the status a plugin chose (403, 404, 405, 406, …); only the code becomes ours.
    const mapped = new InvalidRequestError(err.message);
    (mapped as { statusCode?: number }).statusCode = err.statusCode;
    return mapped;
  }
  return new InternalError();
}

/** What a 503 tells the client to wait before retrying, seconds (the SDK retries with the same event ids). */
const RETRY_AFTER_SECONDS = 2;

/** Installs the error and not-found handlers on `app`. */
export function installErrorHandlers(app: FastifyInstance): void {
  // With Redis away every ingest request fails alike: one line per cause and interval, not per request.
  const storeFailures = logGate();
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const mapped = translate(err);
    const statusCode = mapped.statusCode ?? 500;
    if (statusCode === 503) {
      if (!reply.hasHeader('retry-after')) reply.header('retry-after', RETRY_AFTER_SECONDS);
      const cause = err.cause instanceof Error ? err.cause : err;
      const repeats = storeFailures.pass(`${err.code} ${cause.message}`);
      if (repeats !== null) {
        request.log.error({ err: { code: err.code, cause: cause.message }, repeats }, 'request failed');
      }
    } else if (statusCode >= 500) request.log.error({ err }, 'request failed');
    // A refusal is said once, on the request's own log line (request-log.ts).
    else noteRefusal(request, mapped.code);
    // A plain body, not the Error: sending an Error hands it to Fastify's default handler, which logs
    // it again (with its stack, at info for a 4xx).
    reply.code(statusCode).send({
      statusCode,
      code: mapped.code,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message: mapped.message,
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(new NotFoundError(`${request.method} ${request.url.split('?')[0]}`));
  });
}
