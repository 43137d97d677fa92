/**
 * Signs test JWTs with node:crypto (HS256, RS256, ES256, or `alg: none`), so the tests exercise the
 * collector's verification against tokens built independently of it.
 */
import { createHmac, type KeyObject, sign } from 'node:crypto';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Claims with a one-hour `exp` unless given. */
export function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'user-1',
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...extra,
  };
}

/** A signed compact JWT. `key` is the HS256 secret or an RSA/EC private key. */
export function signJwt(
  alg: 'HS256' | 'RS256' | 'ES256' | 'none',
  payload: Record<string, unknown>,
  key?: string | KeyObject,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg, typ: 'JWT', ...header })}.${b64(payload)}`;
  if (alg === 'none') return `${input}.`;
  let signature: Buffer;
  if (alg === 'HS256')
    signature = createHmac('sha256', key as string)
      .update(input)
      .digest();
  else if (alg === 'RS256') signature = sign('sha256', Buffer.from(input), key as KeyObject);
  else signature = sign('sha256', Buffer.from(input), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}
