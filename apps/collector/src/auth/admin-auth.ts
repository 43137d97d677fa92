/**
 * Bearer-token checks of the admin side and of `/metrics` (`METRICS_TOKEN`). The admin side has two
 * tokens: `ADMIN_TOKEN` (everything) and `DASHBOARD_TOKEN` (read-only: the dashboard and the read
 * routes). The bearer value and each token are compared as SHA-256 digests with `timingSafeEqual`, so
 * neither the length nor a prefix of a token leaks through timing. Failed checks count against one
 * limit per client address shared by every guarded route (`auth-failures.ts`): past it a wrong token is
 * answered 429, while a valid token always passes. The kind of token a request used is kept on the
 * request (for the audit log); the token itself never is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminUnauthorizedError, ReadOnlyTokenError } from '../http/errors.js';
import type { AuthFailureLimit } from './auth-failures.js';

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

/** What guards the admin and read routes. */
export interface AdminRouteGuards {
  /** `ADMIN_TOKEN`; null when only `DASHBOARD_TOKEN` is set (then only read routes exist). */
  adminToken: string | null;
  /** `DASHBOARD_TOKEN`: read routes take it, admin-only routes refuse it with 403; null when unset. */
  dashboardToken: string | null;
  /** Failed authentications per client address (`ADMIN_RATE_LIMIT_PER_MINUTE`); null: not limited. */
  failures: AuthFailureLimit | null;
}

/**
 * A check refusing requests without `Authorization: Bearer <token>` with `error` (constant time); a
 * refusal counts against `failures` (429 past its limit).
 *
 * @example
 * const check = bearerCheck(config.metricsToken, () => new MetricsUnauthorizedError(), failures);
 * app.addHook('onRequest', check);
 */
export function bearerCheck(
  token: string,
  error: () => Error = () => new AdminUnauthorizedError(),
  failures: AuthFailureLimit | null = null,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token);
  return async (request, reply) => {
    if (bearerMatches(expected, request.headers.authorization)) return;
    if (failures) await failures.refuse(request, reply, error());
    throw error();
  };
}

/** Whether `authorization` is `Bearer <token>` for the token whose digest is `expected` (constant time). */
function bearerMatches(expected: Buffer, authorization: string | undefined): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!.trim()), expected);
}

/**
 * A check of the bearer token of a request against `tokens` (any of them; constant time, every token
 * compared): true when one matches, false without an `Authorization` header, and for a wrong one a
 * failure counted against `failures` (which throws the 429 past its limit) then false.
 *
 * @example
 * const details = bearerAny([config.adminToken, config.metricsToken], failures);
 * if (await details(request, reply)) return fullAnswer;
 */
export function bearerAny(
  tokens: ReadonlyArray<string | null>,
  failures: AuthFailureLimit | null,
): (request: FastifyRequest, reply: FastifyReply) => Promise<boolean> {
  const expected = tokens.filter((t): t is string => t !== null).map(digest);
  return async (request, reply) => {
    const sent = request.headers.authorization;
    if (sent === undefined) return false;
    let matched = false;
    for (const e of expected) matched = bearerMatches(e, sent) || matched;
    if (matched) return true;
    if (failures) {
      try {
        await failures.refuse(request, reply, new AdminUnauthorizedError());
      } catch (err) {
        // Below the limit the caller answers as to anyone without a token; past it, the 429.
        if ((err as { statusCode?: number }).statusCode === 429) throw err;
      }
    }
    return false;
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
 * `preParsing`, so no body of an unauthenticated request is parsed. No or a wrong token is a 401 (a 429
 * past the address's failed-authentication limit); the dashboard token on a route whose access is
 * `admin` is a 403. A valid token is never refused for the address's failures.
 *
 * @example
 * adminGuard(app, { adminToken, dashboardToken, failures });
 * app.get('/v1/admin/x', { config: adminRouteConfig(guards, 'read') }, handler);
 */
export function adminGuard(app: FastifyInstance, guards: AdminRouteGuards): void {
  const expected = {
    admin: guards.adminToken === null ? null : digest(guards.adminToken),
    dashboard: guards.dashboardToken === null ? null : digest(guards.dashboardToken),
  };
  app.addHook('preParsing', async (request, reply, payload) => {
    const kind = tokenKind(expected, request.headers.authorization);
    if (kind === null) {
      if (guards.failures) await guards.failures.refuse(request, reply, new AdminUnauthorizedError());
      throw new AdminUnauthorizedError();
    }
    if (kind === 'dashboard' && request.routeOptions.config.access !== 'read') throw new ReadOnlyTokenError();
    request.tokenKind = kind;
    return payload;
  });
}

/** The route `config` of an admin route: which tokens it takes (default `admin`). */
export function adminRouteConfig(
  _guards: AdminRouteGuards,
  access: RouteAccess = 'admin',
): { access: RouteAccess } {
  return { access };
}

/**
 * The refusals a guarded route answers, for its documented statuses: 401 always, 403 on an admin-only
 * route while a dashboard token exists to be refused.
 */
export function guardStatuses(guards: AdminRouteGuards, access: RouteAccess = 'admin'): number[] {
  return access === 'admin' && guards.dashboardToken !== null ? [401, 403] : [401];
}
