/**
 * The Fastify server options of the collector: its logger (redacted request lines, one per request),
 * proxy trust, body and timeout bounds, and DL_ answers for what Node or the router refuses before a
 * route sees it.
 */
import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyReply, FastifyServerOptions } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import { errorLogSerializer } from '../runtime/error-log.js';
import { clientErrorHandler } from './client-errors.js';
import { InvalidRequestError, PathTooLongError } from './errors.js';
import { OneLinePerRequest, prettyLogStream, type RequestLogRedaction } from './request-log.js';

/** Extra, non-configuration options of `buildApp`. */
export interface BuildAppOptions {
  /** Overrides the logger (tests pass `false`). Default: JSON logs at `LOG_LEVEL`. */
  logger?: boolean;
  /** Where the JSON log lines go (default stdout); tests capture them to scan for addresses and tokens. */
  logStream?: { write(line: string): void };
  /**
   * Log lines for a person at a terminal (pino-pretty: time, level, message) instead of JSON; server.ts
   * sets it when stdout is a TTY, so a log shipper reading a pipe still gets JSON.
   */
  prettyLog?: boolean;
}

/** The logger option: JSON (or pretty) lines at `LOG_LEVEL`, without addresses, queries or ids. */
function loggerOptions(
  config: CollectorConfig,
  options: BuildAppOptions,
  redaction: RequestLogRedaction,
): FastifyServerOptions['logger'] {
  if (options.logger === false) return false;
  return {
    level: config.logLevel,
    ...(options.logStream
      ? { stream: options.logStream }
      : options.prettyLog
        ? { stream: prettyLogStream() }
        : {}),
    // No client address, no query string (tokens, ids), no path parameter (device and user ids of admin
    // routes, which must not outlive an erasure in the logs) and no raw segment of a path that missed
    // its route in request logs; errors without their commands' keys or their rows' values
    // (request-log.ts).
    serializers: { req: redaction.serializer, err: errorLogSerializer },
  };
}

/**
 * The options `Fastify()` is called with.
 *
 * @example
 * const app = Fastify(serverOptions(config, {}, requestLogRedaction()));
 */
export function serverOptions(
  config: CollectorConfig,
  options: BuildAppOptions,
  redaction: RequestLogRedaction,
): FastifyHttpOptions<Server> {
  return {
    logger: loggerOptions(config, options, redaction),
    // One line per request, when it ends (Fastify's default adds one as it comes in).
    logController: new OneLinePerRequest(),
    // The addresses or CIDR ranges of the proxies (TRUST_PROXY), or none.
    trustProxy: config.trustProxy === false ? false : [...config.trustProxy],
    bodyLimit: 64 * 1024,
    // Slow clients: a body trickled a byte at a time is cut after requestTimeout (408), a half-sent one
    // after connectionTimeout of silence. Node checks requestTimeout every connectionsCheckingInterval
    // (30 s by default, which would double the bound), and headersTimeout must not exceed it.
    requestTimeout: config.requestTimeoutSeconds * 1000,
    connectionTimeout: config.connectionTimeoutSeconds * 1000,
    // An idle keep-alive connection closes after the same silence (Fastify's default keeps it 72 s).
    keepAliveTimeout: config.connectionTimeoutSeconds * 1000,
    http: {
      connectionsCheckingInterval: Math.min(1000, config.requestTimeoutSeconds * 250),
      headersTimeout: config.requestTimeoutSeconds * 1000,
    },
    // Refused by Node's parser or timed out before a route saw them: DL_ bodies too.
    clientErrorHandler,
    // Room for a 256-character user id in the erasure route (Fastify's default is 100).
    routerOptions: { maxParamLength: 300 },
    // Router-level refusals (a path parameter too long, a malformed URL) get DL_ codes too.
    frameworkErrors: (error, _request, reply) => {
      const refused =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new PathTooLongError()
          : new InvalidRequestError(error.message);
      // The framework's reply type carries no route schema to check against.
      (reply as unknown as FastifyReply).code(refused.statusCode ?? 400).send(refused);
    },
  };
}
