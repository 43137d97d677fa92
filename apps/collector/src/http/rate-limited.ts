/**
 * The 429 answer of a request refused by a rate limit (the plugin's `rateLimit`, counted by the store).
 */
import type { LimitState } from '@devicelink/fastify';
import { RateLimitedError } from './errors.js';

/** The error to throw; the plugin (or the route) has set `Retry-After` and `x-ratelimit-*`. */
export function limitedError(by: 'client' | 'address', limit: LimitState): Error {
  const seconds = Math.max(1, Math.ceil(limit.resetMs / 1000));
  const from = by === 'address' ? ' from this address' : '';
  return new RateLimitedError(
    `rate limit of ${limit.max} requests per minute${from} exceeded; retry in ${seconds} s`,
  );
}
