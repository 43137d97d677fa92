/**
 * What the request log says, and how often: one line per request, written when it ends, with method and
 * path, status and time; never the client address, the query string (tokens, ids) or a path parameter.
 * A matched route with parameters is logged by its pattern (`/v1/admin/users/:userId`), so a user or
 * device id erased from the data does not live on in the logs. At a terminal the line reads
 * `POST /v1/events 202 (3 ms)` (a refusal adds its code); piped, it is JSON for a log shipper.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import pretty, { type PrettyOptions } from 'pino-pretty';

/**
 * Fastify's `serializers.req`.
 *
 * @example
 * Fastify({ logger: { serializers: { req: requestLogSerializer } } });
 */
export function requestLogSerializer(request: FastifyRequest): { method: string; url: string } {
  const pattern = request.routeOptions?.url;
  const url = pattern?.includes(':') ? pattern : (request.url ?? '').split('?')[0]!;
  return { method: request.method, url };
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
 * Fastify({ logger: { serializers: { req: requestLogSerializer } }, logController: new OneLinePerRequest() });
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
