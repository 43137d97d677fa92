/**
 * Bearer-token checks of the admin routes (`ADMIN_TOKEN`) and of `/metrics` (`METRICS_TOKEN`): the
 * bearer value and the token are compared as SHA-256 digests with `timingSafeEqual`, so neither the
 * length nor a prefix of the token leaks through timing. Admin routes are rate-limited per client
 * address before the token is checked, so guessing the token costs a 429 after a few tries.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminUnauthorizedError } from '../http/errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** The rate limit of a route, as @fastify/rate-limit's route `config.rateLimit` takes it. */
export interface RouteRateLimit {
  max: number;
  timeWindow: number;
  keyGenerator: (request: FastifyRequest) => Promise<string>;
}

/** What guards the admin routes. */
export interface AdminRouteGuards {
  adminToken: string;
  /** `ADMIN_RATE_LIMIT_PER_MINUTE` per client address; null without the rate-limit plugin. */
  rateLimit: RouteRateLimit | null;
}

/**
 * A check refusing requests without `Authorization: Bearer <token>` with `error` (constant time).
 *
 * @example
 * const check = bearerCheck(config.metricsToken, () => new MetricsUnauthorizedError());
 * app.addHook('onRequest', check);
 */
export function bearerCheck(
  token: string,
  error: () => Error = () => new AdminUnauthorizedError(),
): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const m = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!.trim()), expected)) throw error();
  };
}

/**
 * Guards the admin routes of `app` (an encapsulated scope): the token check runs at `preParsing`, so
 * the route's rate limit (an `onRequest` hook, see {@link adminRouteConfig}) counts every attempt
 * first, and no body of an unauthenticated request is parsed.
 *
 * @example
 * adminGuard(app, { adminToken: config.adminToken, rateLimit });
 * app.get('/v1/admin/x', { config: adminRouteConfig(guards) }, handler);
 */
export function adminGuard(app: FastifyInstance, guards: AdminRouteGuards): void {
  const check = bearerCheck(guards.adminToken);
  app.addHook('preParsing', async (request, _reply, payload) => {
    await check(request);
    return payload;
  });
}

/** The route `config` of an admin route: its rate limit. */
export function adminRouteConfig(guards: AdminRouteGuards): { rateLimit?: RouteRateLimit } {
  return guards.rateLimit ? { rateLimit: guards.rateLimit } : {};
}
