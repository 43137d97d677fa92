/**
 * Signs test JWTs with node:crypto (HS256, RS256, ES256, or `alg: none`), so the tests exercise the
 * collector's verification against tokens built independently of it; and serves a JWKS.
 */
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** An RSA key pair and its public JWK under `kid`. */
function rsaKey(kid: string) {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: pair.privateKey,
    jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
  };
}

/**
 * A JWKS server that counts the requests for its key set; `hang` makes it never answer, `failing` answer
 * 503; `addKey` publishes another key (a rotation) and returns its private key.
 */
export async function jwksServer(options: { hang?: boolean; failing?: boolean } = {}) {
  const first = rsaKey('key-1');
  const keys = [first.jwk];
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches += 1;
    if (options.hang) return;
    if (options.failing) {
      res.statusCode = 503;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    privateKey: first.privateKey,
    fetches: () => fetches,
    addKey(kid: string): KeyObject {
      const added = rsaKey(kid);
      keys.push(added.jwk);
      return added.privateKey;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
