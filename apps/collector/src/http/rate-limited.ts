/**
 * The 429 answer of a request refused by a rate limit (the plugin's `rateLimit`, counted by the store).
 */
import { type LimitState, setRateLimitHeaders } from '@devicelink/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError } from './errors.js';

/** The error to throw; the plugin (or the route) has set `Retry-After` and `x-ratelimit-*`. */
export function limitedError(by: 'client' | 'address' | 'network', limit: LimitState): Error {
  const seconds = Math.max(1, Math.ceil(limit.resetMs / 1000));
  if (by === 'network') {
    return new RateLimitedError(
      `limit of ${limit.max} new device ids from this network exceeded; retry in ${seconds} s`,
    );
  }
  const from = by === 'address' ? ' from this address' : '';
  return new RateLimitedError(
    `rate limit of ${limit.max} requests per minute${from} exceeded; retry in ${seconds} s`,
  );
}

/**
 * Counts the plugin's rate limits under `group` for a route without page views (the per-address
 * counter is shared with the events route), sets the headers and throws the 429 when refused. A store
 * that cannot count does not refuse the request: the route's own store work answers 503 if it is down.
 */
export async function countLimit(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  group: string,
  perAddress = true,
): Promise<void> {
  let result: Awaited<ReturnType<typeof app.devicelink.limit>>;
  try {
    result = await app.devicelink.limit(request, group, { perAddress });
  } catch (err) {
    request.log.warn({ err: (err as Error).message }, `counting the ${group} rate limit failed; not limited`);
    return;
  }
  if (result === null) return;
  setRateLimitHeaders(reply, result.limit, result.status === 'limited');
  if (result.status === 'limited') throw limitedError(result.by, result.limit);
}
