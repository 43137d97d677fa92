/**
 * Checks that must run before any device or token work on the ingest routes, so a refused request costs
 * no JWT verification (the plugin's app-level onRequest verifies bearer tokens), no body parse and no
 * store round trip: a `/v1/events` Origin not in `CORS_ORIGINS` (403), and a per-address rate limit on
 * the rate-limited routes that a client cannot dodge by sending a new random device id each request.
 * Registered as an app-level onRequest hook before the devicelink plugin, which makes it run first.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OriginRefusedError, RateLimitedError } from './errors.js';

/** The outcome of a rate-limit check (the subset of @fastify/rate-limit's `createRateLimit` answer used). */
export interface RateLimitCheck {
  isAllowed: boolean;
  isExceeded?: boolean;
  max?: number;
  ttlInSeconds?: number;
}

/** Options of {@link installRequestGuards}. */
export interface RequestGuardOptions {
  /** `CORS_ORIGINS`; null: no origin check. */
  corsOrigins: readonly string[] | null;
  /** The per-address limiter (from `app.createRateLimit`); null without the rate-limit plugin. */
  addressLimit: ((request: FastifyRequest) => Promise<RateLimitCheck>) | null;
  /** Route patterns the address limit applies to. */
  limitedRoutes: readonly string[];
}

const EVENTS_ROUTE = '/v1/events';

/** Adds the guard hook to `app` (call before registering the devicelink plugin). */
export function installRequestGuards(app: FastifyInstance, options: RequestGuardOptions): void {
  const { corsOrigins, addressLimit } = options;
  const limited = new Set(options.limitedRoutes);
  app.addHook('onRequest', async (request, reply) => {
    // Preflights and probes are never refused here (CORS answers OPTIONS itself).
    if (request.method !== 'POST') return;
    const route = request.routeOptions.url;
    if (corsOrigins && route === EVENTS_ROUTE) {
      const origin = request.headers.origin;
      // No Origin: a server-side client, accepted (contract).
      if (origin !== undefined && !corsOrigins.includes(origin)) {
        throw new OriginRefusedError(origin.slice(0, 200));
      }
    }
    if (addressLimit && route !== undefined && limited.has(route)) {
      const check = await addressLimit(request);
      if (!check.isAllowed && check.isExceeded) {
        reply.header('retry-after', String(check.ttlInSeconds ?? 60));
        throw new RateLimitedError(
          `rate limit of ${check.max} requests per minute from this address exceeded; retry in ${check.ttlInSeconds ?? 60} s`,
        );
      }
    }
  });
}
