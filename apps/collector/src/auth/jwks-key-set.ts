/**
 * The key set of `JWT_JWKS_URL`, fetched with bounds no token can push (apps/collector/README.md, JWKS
 * fetches). jose's remote key set does the fetching, caching, key selection by `kid` and `alg` and the
 * refetch on an unknown `kid` (once its 30 s cooldown since the last fetch passed); around it this file
 * adds what jose leaves open: a failed fetch counts for the cooldown too (jose counts successes only, so a
 * key server that is down would be asked again on every token), the set is fetched at start and every
 * `maxAgeMs` in the background, and a caller that may not fetch (the anonymous tracking routes) is
 * answered from the keys in hand only.
 */
import { KeyObject, type webcrypto } from 'node:crypto';
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FetchImplementation,
  type JWKSCacheInput,
  jwksCache,
} from 'jose';
import { TokenInvalidError } from '../http/errors.js';

/** Options of {@link JwksKeySet}. */
export interface JwksKeySetOptions {
  url: string;
  /** Shortest time between two fetches, ms (default 30 s). */
  cooldownMs?: number;
  /** Period of the background fetch, ms (default 10 min). */
  maxAgeMs?: number;
  /** How long one fetch may take, ms (default 1 s: a hung key server must not hold `/v1/identify`). */
  timeoutMs?: number;
}

type KeyResolver = (header: { kid: string; alg: string }) => Promise<CryptoKey>;

/**
 * A cached JWKS with a fetch cooldown.
 *
 * @example
 * const keys = new JwksKeySet({ url: 'https://idp.example/.well-known/jwks.json' });
 * keys.start();
 * const pem = await keys.key('kid-1', 'RS256', { fetch: true });
 */
export class JwksKeySet {
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #timeoutMs: number;
  /** Written by jose on each successful fetch: the keys in hand. */
  readonly #cache: JWKSCacheInput = {};
  readonly #remote: ReturnType<typeof createRemoteJWKSet>;
  /** The keys in hand as a resolver, and the fetch it was made from. */
  #inHand: { uat: number; resolve: KeyResolver } | null = null;
  /** When the last fetch began, successful or not (null: never). */
  #attemptAt: number | null = null;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #pems = new WeakMap<CryptoKey, string>();

  constructor(options: JwksKeySetOptions) {
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 600_000;
    this.#timeoutMs = options.timeoutMs ?? 1_000;
    this.#remote = createRemoteJWKSet(new URL(options.url), {
      timeoutDuration: this.#timeoutMs,
      cooldownDuration: this.#cooldownMs,
      // Never stale for jose: the background fetch renews the set, and keys in hand stay usable while
      // the key server is down.
      cacheMaxAge: Number.POSITIVE_INFINITY,
      [jwksCache]: this.#cache,
      [customFetch]: this.#fetch,
    });
  }

  /** Fetches the set now and then every `maxAgeMs` (the timer never holds the process). */
  start(): void {
    if (this.#timer) return;
    const refresh = () => void this.#remote.reload().catch(() => undefined);
    refresh();
    this.#timer = setInterval(refresh, this.#maxAgeMs);
    this.#timer.unref();
  }

  /** Stops the background refresh. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * The PEM of `kid` for `alg`; throws a 401 `DL_TOKEN_INVALID` when the set has no such key. With
   * `fetch`, a missing key may fetch the set first: only once the cooldown since the last fetch passed,
   * and joining a fetch already under way.
   */
  async key(kid: string, alg: string, options: { fetch: boolean }): Promise<string> {
    let key: CryptoKey;
    try {
      key = await (options.fetch ? this.#remote : this.#keysInHand())({ kid, alg });
    } catch (err) {
      throw this.#refusal(err, kid, alg);
    }
    let pem = this.#pems.get(key);
    if (pem === undefined) {
      pem = String(KeyObject.from(key as webcrypto.CryptoKey).export({ type: 'spki', format: 'pem' }));
      this.#pems.set(key, pem);
    }
    return pem;
  }

  /** The keys of the last successful fetch, resolved without fetching. */
  #keysInHand(): KeyResolver {
    const { uat, jwks } = this.#cache;
    if (uat === undefined || jwks === undefined) {
      return () => Promise.reject(new errors.JWKSNoMatchingKey('the JWKS was not fetched yet'));
    }
    if (this.#inHand?.uat !== uat) this.#inHand = { uat, resolve: createLocalJWKSet(jwks) };
    return this.#inHand.resolve;
  }

  /** jose's fetch, refused within the cooldown of the last attempt; remembers why a fetch failed. */
  readonly #fetch: FetchImplementation = async (url, init) => {
    const now = Date.now();
    if (this.#attemptAt !== null && now - this.#attemptAt < this.#cooldownMs) {
      throw new Error(`not fetched again within ${this.#cooldownMs / 1000} s of the last fetch`);
    }
    this.#attemptAt = now;
    try {
      const res = await fetch(url, init);
      this.#lastError = res.status === 200 ? null : `HTTP ${res.status}`;
      return res;
    } catch (err) {
      this.#lastError =
        (err as Error).name === 'TimeoutError'
          ? `no answer in ${this.#timeoutMs} ms`
          : (err as Error).message;
      throw err;
    }
  };

  #refusal(err: unknown, kid: string, alg: string): Error {
    const why = this.#lastError ? ` (last fetch: ${this.#lastError})` : '';
    if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JOSENotSupported) {
      return new TokenInvalidError(`no key "${kid}" for ${alg} in the JWKS${why}`);
    }
    if (err instanceof errors.JWKSMultipleMatchingKeys) {
      return new TokenInvalidError(`several keys "${kid}" for ${alg} in the JWKS`);
    }
    return new TokenInvalidError(`no key "${kid}": ${(err as Error).message}${why}`);
  }
}
