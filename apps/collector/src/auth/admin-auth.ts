/**
 * `ADMIN_TOKEN` check for admin routes: the bearer value and the token are compared as SHA-256 digests
 * with `timingSafeEqual`, so neither the length nor a prefix of the token leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AdminUnauthorizedError } from '../http/errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * An `onRequest` hook refusing requests without `Authorization: Bearer <adminToken>`.
 *
 * @example
 * app.addHook('onRequest', adminGuard(config.adminToken));
 */
export function adminGuard(adminToken: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(adminToken);
  return async (request) => {
    const m = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!.trim()), expected)) throw new AdminUnauthorizedError();
  };
}
