/**
 * Access tokens for the simulated logins: HS256 JWTs signed with the collector's `JWT_SECRET`, `sub` the
 * user, valid for an hour (docs/protocol.md, Conversion).
 */
import { createHmac } from 'node:crypto';

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs a token for `userId` with `secret`. */
export function userToken(secret: string, userId: string): string {
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: userId, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
