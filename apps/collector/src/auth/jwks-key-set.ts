/**
 * The key set of `JWT_JWKS_URL`, fetched with bounds no token can push (apps/collector/README.md, JWKS
 * fetches): at most one fetch per cooldown (30 s) for the whole set, whatever `kid` arrives; a `kid` the set
 * lacks while it is fresh (fetched, or tried, within the cooldown) is refused without a fetch; and a caller
 * that may not fetch (the anonymous tracking routes) is answered from the keys in hand only. The set is
 * fetched at start and again every `maxAgeMs` in the background, so tracking routes know the keys without
 * ever fetching.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { TokenInvalidError } from '../http/errors.js';

/** Options of {@link JwksKeySet}. */
export interface JwksKeySetOptions {
  url: string;
  /** Shortest time between two fetches, ms (default 30 s). */
  cooldownMs?: number;
  /** Age after which the set is fetched again in the background or on the next verification, ms (default 10 min). */
  maxAgeMs?: number;
  /** How long one fetch may take, ms (default 1 s: a hung key server must not hold `/v1/identify`). */
  timeoutMs?: number;
}

interface Key {
  pem: string;
  /** The key's `alg` if the set names one: a token must use it. */
  alg: string | null;
}

/**
 * A cached JWKS with a fetch cooldown.
 *
 * @example
 * const keys = new JwksKeySet({ url: 'https://idp.example/.well-known/jwks.json' });
 * keys.start();
 * const pem = await keys.key('kid-1', 'RS256', { fetch: true });
 */
export class JwksKeySet {
  readonly #url: string;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #timeoutMs: number;
  #keys = new Map<string, Key>();
  /** When the last successful fetch ended (null: never). */
  #fetchedAt: number | null = null;
  /** When the last fetch began, successful or not (null: never). */
  #attemptAt: number | null = null;
  #inflight: Promise<void> | null = null;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: JwksKeySetOptions) {
    this.#url = options.url;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 600_000;
    this.#timeoutMs = options.timeoutMs ?? 1_000;
  }

  /** Fetches the set now and then every `maxAgeMs` (the timer never holds the process). */
  start(): void {
    if (this.#timer) return;
    void this.#refresh();
    this.#timer = setInterval(() => void this.#refresh(), this.#maxAgeMs);
    this.#timer.unref();
  }

  /** Stops the background refresh. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /**
   * The PEM of `kid` for `alg`; throws a 401 `DL_TOKEN_INVALID` when the set has no such key. With
   * `fetch`, a missing or stale key may fetch the set first: only once the cooldown since the last
   * fetch passed, and joining a fetch already under way.
   */
  async key(kid: string, alg: string, options: { fetch: boolean }): Promise<string> {
    if (options.fetch) {
      const known = this.#keys.has(kid);
      const now = Date.now();
      const stale = this.#fetchedAt === null || now - this.#fetchedAt >= this.#maxAgeMs;
      const fresh = this.#attemptAt !== null && now - this.#attemptAt < this.#cooldownMs;
      if (this.#inflight) await this.#inflight;
      else if ((!known || stale) && !fresh) await this.#refresh();
    }
    const key = this.#keys.get(kid);
    if (!key) {
      const why = this.#lastError ? ` (last fetch: ${this.#lastError})` : '';
      throw new TokenInvalidError(`no key "${kid}" in the JWKS${why}`);
    }
    if (key.alg !== null && key.alg !== alg) {
      throw new TokenInvalidError(`key "${kid}" is for ${key.alg}, the token says ${alg}`);
    }
    return key.pem;
  }

  /** One fetch at a time; a failed fetch keeps the keys in hand and counts for the cooldown. */
  #refresh(): Promise<void> {
    this.#inflight ??= (async () => {
      this.#attemptAt = Date.now();
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
      try {
        const res = await fetch(this.#url, { signal: abort.signal, headers: { accept: 'application/json' } });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.#keys = parseKeySet(await res.json());
        this.#fetchedAt = Date.now();
        this.#lastError = null;
      } catch (err) {
        this.#lastError = abort.signal.aborted
          ? `no answer in ${this.#timeoutMs} ms`
          : err instanceof Error
            ? err.message
            : String(err);
      } finally {
        clearTimeout(timer);
        this.#inflight = null;
      }
    })();
    return this.#inflight;
  }
}

/** The signing keys of a JWKS document by `kid`; keys without `kid`, for encryption or unusable are skipped. */
function parseKeySet(body: unknown): Map<string, Key> {
  const keys = new Map<string, Key>();
  const list = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error('the JWKS has no "keys" array');
  for (const jwk of list as Array<JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown }>) {
    if (typeof jwk?.kid !== 'string' || jwk.use === 'enc') continue;
    // Public keys only: a symmetric ("oct") key in a public set would let anyone holding the set sign.
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue;
    try {
      const pem = String(
        createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
      );
      keys.set(jwk.kid, { pem, alg: typeof jwk.alg === 'string' ? jwk.alg : null });
    } catch {
      // A malformed key is skipped; the others still verify.
    }
  }
  return keys;
}
