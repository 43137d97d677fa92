/**
 * Bearer-token checks of the admin side and of `/metrics` (`METRICS_TOKEN`). The admin side has two
 * tokens: `ADMIN_TOKEN` (everything) and `DASHBOARD_TOKEN` (read-only: the dashboard and the read
 * routes). The bearer value and each token are compared as SHA-256 digests with `timingSafeEqual`, so
 * neither the length nor a prefix of a token leaks through timing. Admin routes are rate-limited per
 * client address before the token is checked, so guessing a token costs a 429 after a few tries. The
 * kind of token a request used is kept on the request (for the audit log); the token itself never is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminUnauthorizedError, ReadOnlyTokenError } from '../http/errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Which token a request was let in with. */
export type TokenKind = 'admin' | 'dashboard';

/**
 * What a route lets in: `admin` only the admin token (the dashboard token gets 403), `read` either.
 */
export type RouteAccess = 'admin' | 'read';

declare module 'fastify' {
  interface FastifyRequest {
    /** The kind of token an admin or read route let this request in with. */
    tokenKind?: TokenKind;
  }
  interface FastifyContextConfig {
    /** Set by {@link adminRouteConfig}: which tokens the route takes. */
    access?: RouteAccess;
  }
}

/** The rate limit of a route, as @fastify/rate-limit's route `config.rateLimit` takes it. */
export interface RouteRateLimit {
  max: number;
  timeWindow: number;
  keyGenerator: (request: FastifyRequest) => Promise<string>;
}

/** What guards the admin and read routes. */
export interface AdminRouteGuards {
  /** `ADMIN_TOKEN`; null when only `DASHBOARD_TOKEN` is set (then only read routes exist). */
  adminToken: string | null;
  /** `DASHBOARD_TOKEN`: read routes take it, admin-only routes refuse it with 403; null when unset. */
  dashboardToken: string | null;
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

/** The kind of the bearer token of `authorization`, or null when it matches neither token. */
function tokenKind(
  expected: { admin: Buffer | null; dashboard: Buffer | null },
  authorization: string | undefined,
): TokenKind | null {
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  if (!m) return null;
  const sent = digest(m[1]!.trim());
  // Both compared every time: which one matched does not show in the timing either.
  const admin = expected.admin !== null && timingSafeEqual(sent, expected.admin);
  const dashboard = expected.dashboard !== null && timingSafeEqual(sent, expected.dashboard);
  return admin ? 'admin' : dashboard ? 'dashboard' : null;
}

/**
 * Guards the admin and read routes of `app` (an encapsulated scope): the token check runs at
 * `preParsing`, so the route's rate limit (an `onRequest` hook, see {@link adminRouteConfig}) counts
 * every attempt first, and no body of an unauthenticated request is parsed. No or a wrong token is a
 * 401; the dashboard token on a route whose access is `admin` is a 403.
 *
 * @example
 * adminGuard(app, { adminToken, dashboardToken, rateLimit });
 * app.get('/v1/admin/x', { config: adminRouteConfig(guards, 'read') }, handler);
 */
export function adminGuard(app: FastifyInstance, guards: AdminRouteGuards): void {
  const expected = {
    admin: guards.adminToken === null ? null : digest(guards.adminToken),
    dashboard: guards.dashboardToken === null ? null : digest(guards.dashboardToken),
  };
  app.addHook('preParsing', async (request, _reply, payload) => {
    const kind = tokenKind(expected, request.headers.authorization);
    if (kind === null) throw new AdminUnauthorizedError();
    if (kind === 'dashboard' && request.routeOptions.config.access !== 'read') throw new ReadOnlyTokenError();
    request.tokenKind = kind;
    return payload;
  });
}

/** The route `config` of an admin route: its rate limit, and which tokens it takes (default `admin`). */
export function adminRouteConfig(
  guards: AdminRouteGuards,
  access: RouteAccess = 'admin',
): { rateLimit?: RouteRateLimit; access: RouteAccess } {
  return guards.rateLimit ? { rateLimit: guards.rateLimit, access } : { access };
}

/**
 * The refusals a guarded route answers, for its documented statuses: 401 always, 403 on an admin-only
 * route while a dashboard token exists to be refused.
 */
export function guardStatuses(guards: AdminRouteGuards, access: RouteAccess = 'admin'): number[] {
  return access === 'admin' && guards.dashboardToken !== null ? [401, 403] : [401];
}
