/**
 * The failed-authentication limit: one counter per client address (a keyed hash of it, never the
 * address) shared by every route that checks a token of the operator's (the admin and read routes,
 * `/readyz` details, `/metrics`), counted on every collector of the store. Only failures count, and only
 * after the token was compared: a valid token always passes, even from an address over its limit, so
 * wrong tokens sent from the admin's own address (or the proxy's) can never lock the admin out. Past the
 * limit a failure is answered 429 `DL_RATE_LIMITED` with `Retry-After` instead of 401.
 *
 * What it protects: not the tokens themselves (32 characters or more, beyond guessing at any rate) but
 * the collector from a flood of token checks, and the operator's logs and metrics from a guesser hiding
 * among 401s: `devicelink_http_requests_total{status="429"}` shows one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { setRateLimitHeaders } from '@devicelink/fastify';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError } from '../http/errors.js';
import { PROBE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import type { WindowCounter } from '../http/window-counter.js';
import { logGate } from '../runtime/throttled-log.js';

/** The window of the limit. */
const WINDOW_MS = 60_000;

/** Counts failed authentications; see the module comment. */
export interface AuthFailureLimit {
  /**
   * Counts a failed authentication of `request`'s address and throws: the 429 past the limit (its
   * headers set on `reply`), else `refusal` (the route's 401).
   */
  refuse(request: FastifyRequest, reply: FastifyReply, refusal: Error): Promise<never>;
}

/** Options of {@link authFailureLimit}. */
export interface AuthFailureOptions {
  /** Failures per minute per address (`ADMIN_RATE_LIMIT_PER_MINUTE`). */
  max: number;
  counter: WindowCounter;
  /** The store's salt of a UTC day (`YYYY-MM-DD`): addresses are hashed under it. */
  dailySalt: (day: string) => Promise<Buffer>;
  log: FastifyBaseLogger;
}

/**
 * The limit.
 *
 * @example
 * const failures = authFailureLimit({ max: 60, counter: windowCounter(redis, 'dl:'), dailySalt, log });
 * if (!valid) await failures.refuse(request, reply, new AdminUnauthorizedError());
 */
export function authFailureLimit(options: AuthFailureOptions): AuthFailureLimit {
  // With the store down and no salt cached, a per-process salt keeps counting instead of failing.
  const fallbackSalt = randomBytes(32);
  const hashAddress = async (address: string): Promise<string> => {
    let salt: Buffer;
    try {
      salt = await within(options.dailySalt(new Date().toISOString().slice(0, 10)), PROBE_TIMEOUT_MS);
    } catch {
      salt = fallbackSalt;
    }
    return createHmac('sha256', salt).update(`auth\0${address}`).digest('base64url').slice(0, 22);
  };
  const failures = logGate();
  return {
    async refuse(request, reply, refusal) {
      let counted: { current: number; ttl: number };
      try {
        counted = await options.counter(`auth:${await hashAddress(request.ip)}`, WINDOW_MS);
      } catch (err) {
        // A counter that cannot count does not turn a 401 into anything else.
        const repeats = failures.pass((err as Error).message);
        if (repeats !== null) {
          request.log.warn(
            { err: (err as Error).message, repeats },
            'counting a failed authentication failed',
          );
        }
        throw refusal;
      }
      if (counted.current <= options.max) throw refusal;
      setRateLimitHeaders(reply, { max: options.max, remaining: 0, resetMs: counted.ttl }, true);
      const seconds = Math.max(1, Math.ceil(counted.ttl / 1000));
      throw new RateLimitedError(
        `limit of ${options.max} failed authentications per minute from this address exceeded; retry in ${seconds} s`,
      );
    },
  };
}
