/**
 * Numbers in queries and bodies are finite. The schemas bound every numeric parameter, but a value
 * past the double range (`limit=1e309`, or `1e309` in JSON) becomes `Infinity`, which Ajv's coercion
 * lets through its bounds: the route would then hand it to Postgres and answer with its error. Checked
 * after validation, so only values a schema made numbers are looked at (a string "1e309" stays text).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidBodyError, InvalidQueryError } from './errors.js';

/** The path of the first non-finite number in `value` (depth-limited), or null. */
function nonFinite(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (depth > 3 || value === null || typeof value !== 'object') return null;
  for (const [key, inner] of Object.entries(value)) {
    const found = nonFinite(inner, path ? `${path}/${key}` : key, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/**
 * Refuses, with 400 `DL_INVALID_QUERY` or `DL_INVALID_BODY`, a request carrying a non-finite number.
 * Added to the routes whose schema validates a query or a body (call before registering them): a route
 * with a validator of its own (`/v1/events`, whose parser checks every number) is left to it.
 */
export function refuseNonFiniteNumbers(app: FastifyInstance): void {
  const check = (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    const inQuery = nonFinite(request.query, '');
    const inBody = inQuery === null ? nonFinite(request.body, '') : null;
    if (inQuery !== null) done(new InvalidQueryError(`querystring/${inQuery} must be a finite number`));
    else if (inBody !== null) done(new InvalidBodyError(`body/${inBody} must be a finite number`));
    else done();
  };
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { querystring?: unknown; body?: unknown } | undefined;
    if (route.validatorCompiler || (!schema?.querystring && !schema?.body)) return;
    const own = route.preHandler;
    route.preHandler = own === undefined ? [check] : [check, ...(Array.isArray(own) ? own : [own])];
  });
}
