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
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

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
