/**
 * Checks that must run before any device or token work on the ingest routes, so a refused request costs
 * no JWT verification (the plugin's app-level onRequest verifies bearer tokens), no body parse and no
 * store round trip: a `/v1/events` Origin not in `CORS_ORIGINS` (403). Registered as an app-level
 * onRequest hook before the devicelink plugin, which makes it run first. The rate limits are counted
 * by the store in the same step as the write they guard (the plugin's `rateLimit` option).
 */
import type { FastifyInstance } from 'fastify';
import { OriginRefusedError } from './errors.js';

/** Options of {@link installRequestGuards}. */
export interface RequestGuardOptions {
  /** `CORS_ORIGINS`; null: no origin check. */
  corsOrigins: readonly string[] | null;
}

const EVENTS_ROUTE = '/v1/events';

/** Adds the guard hook to `app` (call before registering the devicelink plugin); none without `CORS_ORIGINS`. */
export function installRequestGuards(app: FastifyInstance, options: RequestGuardOptions): void {
  const { corsOrigins } = options;
  if (!corsOrigins) return;
  // A callback hook: it runs on every request, and an async one costs a promise each time.
  app.addHook('onRequest', (request, _reply, done) => {
    const origin = request.headers.origin;
    // Preflights and probes are never refused here (CORS answers OPTIONS itself). No Origin: a
    // server-side client, accepted (contract).
    if (
      origin !== undefined &&
      request.method === 'POST' &&
      request.routeOptions.url === EVENTS_ROUTE &&
      !corsOrigins.includes(origin)
    ) {
      return done(new OriginRefusedError(origin.slice(0, 200)));
    }
    done();
  });
}
