/**
 * The rate-limit answer headers, as @fastify/rate-limit sends them: `x-ratelimit-limit`,
 * `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds) on every counted request, and
 * `retry-after` (seconds) when refused.
 */
import type { FastifyReply } from 'fastify';
import type { LimitState } from '../store/rate-limits.js';

/** Sets the headers of `limit` on `reply`; `refused` adds `retry-after`. */
export function setRateLimitHeaders(reply: FastifyReply, limit: LimitState, refused: boolean): void {
  const reset = Math.max(1, Math.ceil(limit.resetMs / 1000));
  reply.header('x-ratelimit-limit', limit.max);
  reply.header('x-ratelimit-remaining', refused ? 0 : limit.remaining);
  reply.header('x-ratelimit-reset', reset);
  if (refused) reply.header('retry-after', reset);
}
