/**
 * What a request log line says of the request: method and path, never the client address, the query
 * string (tokens, ids) or a path parameter. A matched route with parameters is logged by its pattern
 * (`/v1/admin/users/:userId`), so a user or device id erased from the data does not live on in the logs.
 */
import type { FastifyRequest } from 'fastify';

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
