/**
 * The variables whose value is more than a word or a number: the Redis topology, the JWT key, the
 * CORS origins, the trusted proxies and the salt key. Each is read after the schema validated its
 * form; a value it cannot use throws a {@link ConfigError} naming the variable.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';
import type { EnvValues } from './env-schema.js';

/** How tokens are verified: one of the three key sources. */
export type JwtKeyConfig =
  | { kind: 'secret'; secret: string; algorithm: 'HS256' }
  | { kind: 'public-key'; key: string; algorithm: 'RS256' | 'ES256' }
  | { kind: 'jwks'; url: string };

/** Where the live sessions and the queue live. */
export type RedisConfig =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: ReadonlyArray<{ host: string; port: number }> };

/** `REDIS_URL` or `REDIS_CLUSTER_NODES` (the rules refuse both); null: the embedded store. */
export function redisOf(v: EnvValues): RedisConfig | null {
  if (v.REDIS_URL) return { kind: 'single', url: v.REDIS_URL };
  if (!v.REDIS_CLUSTER_NODES) return null;
  const nodes = v.REDIS_CLUSTER_NODES.map((seed) => {
    const colon = seed.lastIndexOf(':');
    return { host: seed.slice(0, colon), port: Number(seed.slice(colon + 1)) };
  });
  return { kind: 'cluster', nodes };
}

/** The algorithm a PEM public key signs with: RS256 for RSA, ES256 for P-256; the contract allows no other. */
function publicKeyAlgorithm(key: KeyObject): 'RS256' | 'ES256' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    throw new ConfigError(
      'JWT_PUBLIC_KEY',
      `is an EC key on curve ${curve ?? 'unknown'}; only P-256 (ES256) or RSA (RS256) keys are accepted`,
    );
  }
  throw new ConfigError('JWT_PUBLIC_KEY', `is a ${key.asymmetricKeyType} key; use an RSA or P-256 EC key`);
}

/** The one JWT key source set (the rules refuse two); null: identify answers 401. */
export function jwtOf(v: EnvValues): JwtKeyConfig | null {
  if (v.JWT_SECRET) return { kind: 'secret', secret: v.JWT_SECRET, algorithm: 'HS256' };
  if (v.JWT_PUBLIC_KEY) {
    // PEM keys pasted into one-line environments often carry literal "\n".
    const pem = v.JWT_PUBLIC_KEY.replace(/\\n/g, '\n');
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new ConfigError('JWT_PUBLIC_KEY', 'is not a PEM public key');
    }
    return { kind: 'public-key', key: pem, algorithm: publicKeyAlgorithm(key) };
  }
  if (!v.JWT_JWKS_URL) return null;
  let url: URL;
  try {
    url = new URL(v.JWT_JWKS_URL);
  } catch {
    throw new ConfigError('JWT_JWKS_URL', `is not a URL: "${v.JWT_JWKS_URL}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('JWT_JWKS_URL', 'must be an http(s) URL');
  }
  return { kind: 'jwks', url: url.toString() };
}

/** `CORS_ORIGINS` as exact origins; null: no CORS headers. */
export function corsOriginsOf(v: EnvValues): string[] | null {
  if (!v.CORS_ORIGINS) return null;
  return v.CORS_ORIGINS.map((o) => {
    if (o.includes('*')) {
      throw new ConfigError('CORS_ORIGINS', 'must list exact origins; "*" is refused (credentials are sent)');
    }
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError('CORS_ORIGINS', `"${o}" is not an origin like https://app.example.com`);
    }
    if (url.origin !== o.replace(/\/$/, '')) {
      throw new ConfigError('CORS_ORIGINS', `"${o}" is not an origin (scheme, host and port only)`);
    }
    return url.origin;
  });
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** `TRUST_PROXY` as addresses, CIDR ranges or proxy-addr's names; false: trust no proxy. */
export function trustProxyOf(v: EnvValues): false | string[] {
  const value = v.TRUST_PROXY;
  if (value === undefined || ['false', 'off', '0', 'no'].includes(value.toLowerCase())) return false;
  // Fastify 5 trusts no forwarded address for a bare hop count (it cannot check the immediate peer),
  // so `1` would silently give every client the proxy's address: refuse it and ask for the addresses.
  if (/^\d+$/.test(value)) {
    throw new ConfigError(
      'TRUST_PROXY',
      `a hop count (${value}) is not enough: give the addresses or CIDR ranges of your proxies (e.g. 10.0.0.0/8,127.0.0.1)`,
    );
  }
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    if (PROXY_NAMES.includes(entry)) return entry;
    const [addr, prefix, ...rest] = entry.split('/');
    const family = isIP(addr ?? '');
    const max = family === 4 ? 32 : 128;
    const okPrefix = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= max);
    if (family === 0 || !okPrefix || rest.length > 0) {
      throw new ConfigError(
        'TRUST_PROXY',
        `"${entry}" is not an address or CIDR range (e.g. 10.0.0.0/8,127.0.0.1)`,
      );
    }
    return entry;
  });
}

/** `SALT_KEY` as its 32 bytes (the schema checked the form: 64 hex digits or 43 base64 characters). */
export function saltKeyOf(v: EnvValues): Buffer | null {
  if (v.SALT_KEY === undefined) return null;
  return /^[0-9a-fA-F]{64}$/.test(v.SALT_KEY)
    ? Buffer.from(v.SALT_KEY, 'hex')
    : Buffer.from(v.SALT_KEY.replace(/=$/, ''), 'base64url');
}
