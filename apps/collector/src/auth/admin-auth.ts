/**
 * Bearer tokens of the admin side: `ADMIN_TOKEN` (everything) and `DASHBOARD_TOKEN` (read-only: the
 * dashboard and the read routes). The bearer value and each token are compared as SHA-256 digests with
 * `timingSafeEqual`, so neither the length nor a prefix of a token leaks through timing. The kind of the
 * token a request used is kept on the request (for the audit log); the token itself never is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AdminUnauthorizedError, ReadOnlyTokenError } from '../http/errors.js';

/** Which token a request was let in with. */
export type TokenKind = 'admin' | 'dashboard';

/** The configured tokens; null when unset. */
export interface AccessTokens {
  adminToken: string | null;
  dashboardToken: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The kind of token an admin or read route let this request in with. */
    tokenKind?: TokenKind;
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

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

function digests(tokens: AccessTokens) {
  return {
    admin: tokens.adminToken === null ? null : digest(tokens.adminToken),
    dashboard: tokens.dashboardToken === null ? null : digest(tokens.dashboardToken),
  };
}

/**
 * An `onRequest` hook refusing requests without `Authorization: Bearer <ADMIN_TOKEN>`: 401, or 403 for
 * the read-only dashboard token.
 *
 * @example
 * app.addHook('onRequest', adminGuard(config.adminToken, config.dashboardToken));
 */
export function adminGuard(
  adminToken: string,
  dashboardToken: string | null = null,
): (request: FastifyRequest) => Promise<void> {
  const expected = digests({ adminToken, dashboardToken });
  return async (request) => {
    const kind = tokenKind(expected, request.headers.authorization);
    if (kind === 'dashboard') throw new ReadOnlyTokenError();
    if (kind !== 'admin') throw new AdminUnauthorizedError();
    request.tokenKind = kind;
  };
}

/**
 * An `onRequest` hook for read routes: either token lets the request in; anything else is a 401.
 *
 * @example
 * app.addHook('onRequest', readGuard({ adminToken, dashboardToken }));
 */
export function readGuard(tokens: AccessTokens): (request: FastifyRequest) => Promise<void> {
  const expected = digests(tokens);
  return async (request) => {
    const kind = tokenKind(expected, request.headers.authorization);
    if (kind === null) throw new AdminUnauthorizedError();
    request.tokenKind = kind;
  };
}

/**
 * The guard of a route that reads with GET and writes with other methods (the device detail and its
 * erasure): GET takes either token, the rest only the admin token.
 */
export function readOrAdminGuard(tokens: AccessTokens): (request: FastifyRequest) => Promise<void> {
  const read = readGuard(tokens);
  const admin = tokens.adminToken === null ? null : adminGuard(tokens.adminToken, tokens.dashboardToken);
  return async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return read(request);
    if (!admin) throw new ReadOnlyTokenError();
    return admin(request);
  };
}
