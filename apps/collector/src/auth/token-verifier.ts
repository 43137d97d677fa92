/**
 * Bearer token verification (docs/protocol.md, Conversion) through @fastify/jwt: exactly one key
 * source (HS256 secret, an RSA/EC public key, or a JWKS with `kid` required, fetched within the bounds
 * of `jwks-key-set.ts` (jose's remote key set): only `/v1/identify` may fetch, at most once per 30 s), or in demo mode a random
 * HS256 key made at start-up. Algorithms are allowlisted per key
 * type (so `alg: none` and algorithm confusion are refused), `exp` and a string `sub` are required,
 * `iss`/`aud` are required and checked when configured, and the times are bounded: `iat` and `nbf` no
 * later than now, `exp` at most {@link MAX_TOKEN_LIFETIME_SECONDS} ahead (a token valid for centuries
 * is a leak waiting to happen, or a forgery), each with 30 s clock tolerance.
 */
import { randomBytes } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import { TokenExpiredError, TokenInvalidError, TokenMissingError } from '../http/errors.js';
import { JwksKeySet } from './jwks-key-set.js';
import { isAcceptedUserId, MAX_USER_ID_LENGTH } from './user-id-rules.js';

/** Verifies a request's bearer token; in demo mode also signs. */
export interface TokenVerifier {
  /**
   * The token's `sub`; throws a 401 `DL_TOKEN_*` error otherwise. With `fetchKeys: false` (the
   * anonymous tracking routes) a JWKS is never fetched: only the keys in hand verify.
   */
  verify(request: FastifyRequest, options?: { fetchKeys?: boolean }): Promise<string>;
  /** Demo mode only: signs a short-lived token for `sub`. */
  sign: ((sub: string) => Promise<string>) | null;
}

/** Asymmetric algorithms a JWKS key may use; never HS* (a public key is no shared secret) nor none. */
const JWKS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number];
const isJwksAlgorithm = (alg: unknown): alg is JwksAlgorithm =>
  JWKS_ALGORITHMS.includes(alg as JwksAlgorithm);
const CLOCK_TOLERANCE_MS = 30_000;
/**
 * The longest lifetime left on an accepted token, seconds (30 days: the longest access-token lifetime
 * common identity providers allow; typical ones are 1 to 24 hours).
 */
const MAX_TOKEN_LIFETIME_SECONDS = 2_592_000;
const DEMO_TOKEN_TTL = '1h';

const hasBearer = (request: FastifyRequest): boolean =>
  /^Bearer\s+\S/i.test(request.headers.authorization ?? '');

function translate(err: unknown): Error {
  const code = (err as { code?: string }).code;
  // Already ours (e.g. thrown by the JWKS key callback): wrapping it again would repeat its prefix.
  if (code?.startsWith('DL_')) return err as Error;
  if (code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' || code === 'FST_JWT_BAD_REQUEST') {
    return new TokenMissingError();
  }
  if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') return new TokenExpiredError();
  const message = err instanceof Error ? err.message : String(err);
  return new TokenInvalidError(message.replace(/^Authorization token is invalid: /, ''));
}

/** The checks every key source shares: required claims, issuer, audience and clock tolerance. */
function verifyOptionsOf(config: CollectorConfig) {
  return {
    // A configured issuer or audience is required, not only checked when present.
    requiredClaims: [
      'exp',
      'sub',
      ...(config.jwtIssuer ? ['iss'] : []),
      ...(config.jwtAudience ? ['aud'] : []),
    ],
    clockTolerance: CLOCK_TOLERANCE_MS,
    ...(config.jwtIssuer ? { allowedIss: config.jwtIssuer } : {}),
    ...(config.jwtAudience ? { allowedAud: config.jwtAudience } : {}),
  };
}

/**
 * Registers @fastify/jwt for the configured key source (nothing when none is configured and not in demo
 * mode); the demo's signer, else null. `mayFetch` holds the requests whose verification may fetch the JWKS.
 */
async function registerJwt(
  app: FastifyInstance,
  config: CollectorConfig,
  mayFetch: WeakSet<FastifyRequest>,
): Promise<TokenVerifier['sign']> {
  const jwt = config.jwt;
  const verifyOptions = verifyOptionsOf(config);
  if (config.demo) {
    // A new key each start: demo tokens never outlive the process that issued them.
    const secret = randomBytes(32).toString('base64url');
    await app.register(fastifyJwt, {
      secret,
      sign: { algorithm: 'HS256', expiresIn: DEMO_TOKEN_TTL },
      verify: { ...verifyOptions, algorithms: ['HS256' as const] },
    });
    return async (sub) => app.jwt.sign({ sub });
  }
  if (jwt?.kind === 'secret') {
    await app.register(fastifyJwt, {
      secret: jwt.secret,
      verify: { ...verifyOptions, algorithms: ['HS256' as const] },
    });
  } else if (jwt?.kind === 'public-key') {
    await app.register(fastifyJwt, {
      // Verification only: the collector never signs with an identity provider's key.
      secret: { public: jwt.key, private: 'unused-never-signs' },
      verify: { ...verifyOptions, algorithms: [jwt.algorithm] },
    });
  } else if (jwt?.kind === 'jwks') {
    const keySet = new JwksKeySet({ url: jwt.url });
    keySet.start();
    app.addHook('onClose', async () => keySet.stop());
    await app.register(fastifyJwt, {
      decode: { complete: true },
      secret: jwksSecret(keySet, mayFetch),
      verify: { ...verifyOptions, algorithms: [...JWKS_ALGORITHMS] },
    });
  }
  return null;
}

/** @fastify/jwt's key callback for a JWKS: the key of the token's `kid`, fetched only for `mayFetch`. */
function jwksSecret(keySet: JwksKeySet, mayFetch: WeakSet<FastifyRequest>) {
  return async (request: FastifyRequest, token: unknown): Promise<string> => {
    const header = (token as { header?: { kid?: unknown; alg?: unknown } }).header ?? {};
    if (typeof header.kid !== 'string' || header.kid === '') {
      throw new TokenInvalidError('the token header has no "kid"');
    }
    if (!isJwksAlgorithm(header.alg)) {
      throw new TokenInvalidError(`algorithm ${String(header.alg)} is not allowed`);
    }
    return keySet.key(header.kid, header.alg, { fetch: mayFetch.has(request) });
  };
}

/**
 * Registers @fastify/jwt for the configured key (nothing when none is configured and not in demo mode)
 * and returns the verifier.
 */
export async function registerTokenVerifier(
  app: FastifyInstance,
  config: CollectorConfig,
): Promise<TokenVerifier> {
  // Requests whose verification may fetch the JWKS (`verify` without `fetchKeys: false`).
  const mayFetch = new WeakSet<FastifyRequest>();
  const sign = await registerJwt(app, config, mayFetch);
  const configured = config.demo || config.jwt !== null;
  return {
    sign,
    async verify(request, { fetchKeys = true } = {}) {
      if (!hasBearer(request)) throw new TokenMissingError();
      if (!configured) {
        throw new TokenInvalidError('no JWT key is configured (JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL)');
      }
      let payload: unknown;
      if (fetchKeys) mayFetch.add(request);
      try {
        payload = await request.jwtVerify();
      } catch (err) {
        throw translate(err);
      } finally {
        mayFetch.delete(request);
      }
      checkTimes(payload as TimeClaims, Date.now());
      const sub = (payload as { sub?: unknown }).sub;
      if (!isAcceptedUserId(sub)) {
        throw new TokenInvalidError(
          `"sub" must be a string of 1 to ${MAX_USER_ID_LENGTH} characters without control, line-separator or bidi-control characters`,
        );
      }
      return sub;
    },
  };
}

interface TimeClaims {
  iat?: unknown;
  nbf?: unknown;
  exp?: unknown;
}

/** Refuses a token issued or valid only in the future, or valid for longer than the bound (see the file comment). */
function checkTimes({ iat, nbf, exp }: TimeClaims, nowMs: number): void {
  const now = nowMs / 1000;
  const tolerance = CLOCK_TOLERANCE_MS / 1000;
  for (const [name, value] of [
    ['iat', iat],
    ['nbf', nbf],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new TokenInvalidError(`"${name}" must be a number of seconds`);
    }
    if (value > now + tolerance) throw new TokenInvalidError(`"${name}" is in the future`);
  }
  if (
    typeof exp !== 'number' ||
    !Number.isFinite(exp) ||
    exp > now + MAX_TOKEN_LIFETIME_SECONDS + tolerance
  ) {
    throw new TokenInvalidError(`"exp" must be at most ${MAX_TOKEN_LIFETIME_SECONDS} seconds ahead`);
  }
}

/**
 * The plugin's `authenticate`: the `sub` of a valid bearer token, else null (anonymous, never an
 * error). It runs on the anonymous tracking routes (`/v1/events`), which never fetch a JWKS: a token
 * naming a key not in hand is anonymous there, so no request can make the collector fetch.
 */
export function authenticateWith(
  verifier: TokenVerifier,
): (request: FastifyRequest) => string | null | Promise<string | null> {
  return (request) => {
    // No token (every anonymous page view): answered at once, so the plugin's hook needs no promise.
    if (!hasBearer(request)) return null;
    return verifier.verify(request, { fetchKeys: false }).catch(() => null);
  };
}
