/**
 * What the logs say of a request, never an id: no client address, no query string (tokens, ids) and
 * no path parameter.
 *
 * - A request that matched a route is logged by the route's pattern (`/v1/admin/users/:userId`,
 *   `/dashboard/*`): a user or device id (device ids are bearer secrets) erased from the data does not
 *   live on in the logs.
 * - A request that matched none (a 404: `/v1/admin/users/bob/typo`) is logged with every path segment
 *   that is not a word of the collector's own routes replaced by `~` and a short keyed hash
 *   (`/v1/admin/users/~3fa9c1d2/~77b0e412`): requests for the same path share it within one process,
 *   and the key is random per process, so the hash cannot be turned back into the segment.
 * - Errors: `runtime/error-log.ts`.
 *
 * And how often: one line per request, written when it ends, with method and path, status and time. At a
 * terminal the line reads `POST /v1/events 202 (3 ms)` (a refusal adds its code); piped, it is JSON.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import pretty, { type PrettyOptions } from 'pino-pretty';

/** File names served beside the routes that are worth reading in a log. */
const KNOWN_FILES = ['favicon.ico', 'robots.txt', 'index.html'];

/** The request serializer and the route words it keeps, filled as routes are added. */
export interface RequestLogRedaction {
  /** Fastify's `serializers.req`. */
  serializer(request: FastifyRequest): { method: string; url: string };
  /** Learns the static segments of a route's path (an `onRoute` hook). */
  learnRoute(url: string): void;
}

/**
 * Makes the serializer; call `learnRoute` for every route (an `onRoute` hook of the root app).
 *
 * @example
 * const redaction = requestLogRedaction();
 * const app = Fastify({ logger: { serializers: { req: redaction.serializer } } });
 * app.addHook('onRoute', (route) => redaction.learnRoute(route.url));
 */
export function requestLogRedaction(): RequestLogRedaction {
  const words = new Set<string>(KNOWN_FILES);
  const key = randomBytes(32);
  const redact = (path: string): string =>
    path
      .split('/')
      .map((segment) =>
        segment === '' || words.has(segment)
          ? segment
          : `~${createHmac('sha256', key).update(segment).digest('hex').slice(0, 8)}`,
      )
      .join('/');
  return {
    serializer(request) {
      const pattern = request.routeOptions?.url;
      const url = pattern ?? redact((request.url ?? '').split('?')[0]!);
      return { method: request.method, url };
    },
    learnRoute(url) {
      for (const segment of url.split('/')) {
        if (segment !== '' && !segment.startsWith(':') && !segment.includes('*')) words.add(segment);
      }
    },
  };
}

/** The `DL_*` code of each request the error handler refused (4xx), for its one log line. */
const refusals = new WeakMap<FastifyRequest, string>();

/** Notes that `request` was refused with `code`: its log line says `request refused` and the code. */
export function noteRefusal(request: FastifyRequest, code: string): void {
  refusals.set(request, code);
}

/**
 * Fastify's `logController`: one line per request when its answer is sent (`request completed`,
 * `request refused` with its `DL_*` code, or `request errored` with the error), carrying the request,
 * the status and the time. Fastify's own writes a second line as each request comes in, which in
 * `npm run demo` doubled every page view and every dashboard request in the terminal.
 *
 * @example
 * Fastify({ logger: { serializers: { req: redaction.serializer } }, logController: new OneLinePerRequest() });
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    const code = refusals.get(request);
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else if (code) reply.log.info({ ...line, code }, 'request refused');
    else reply.log.info(line, 'request completed');
  }
}

interface RequestLine {
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  code?: string;
}

/**
 * The log for a person at a terminal (pino-pretty in this process): time, level and message on one line,
 * a request as `POST /v1/events 202 (3 ms)`, a refused one with its code (`GET /nope 404 (1 ms)
 * DL_NOT_FOUND`). `options` are for tests (destination, colours).
 */
export function prettyLogStream(options: PrettyOptions = {}): ReturnType<typeof pretty> {
  return pretty({
    translateTime: 'HH:MM:ss',
    ignore: 'pid,hostname,reqId,req,res,responseTime,code',
    singleLine: true,
    messageFormat: (log, messageKey) => {
      const { req, res, responseTime, code } = log as RequestLine;
      const message = String(log[messageKey] ?? '');
      if (!req?.method || res?.statusCode === undefined) return code ? `${message} ${code}` : message;
      const line = `${req.method} ${req.url} ${res.statusCode} (${Math.round(responseTime ?? 0)} ms)`;
      if (code) return `${line} ${code}`;
      return message === 'request completed' ? line : `${line} ${message}`;
    },
    ...options,
  });
}
