/**
 * ioredis's connection events into the structured log. Without an `error` listener ioredis prints
 * `[ioredis] Unhandled error event` and a stack trace to stderr on every reconnect attempt (several a
 * second while Redis is away); here each distinct error is logged at most once per
 * `LOG_INTERVAL_MS` with the count of repeats, and the return of the connection once.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import { logGate } from './throttled-log.js';

/** What the listeners know; `lastError` names the cause when start-up gives up. */
export interface RedisEvents {
  lastError(): Error | null;
}

/** Adds the listeners to `client` (and, on a Cluster, to its nodes' errors). */
export function logRedisEvents(client: Redis | Cluster, log: FastifyBaseLogger): RedisEvents {
  let lastError: Error | null = null;
  let failing = false;
  const gate = logGate();
  const onError = (err: Error, node?: string) => {
    lastError = err;
    failing = true;
    const code = (err as { code?: string }).code;
    const repeats = gate.pass(`${node ?? ''} ${code ?? err.message}`);
    if (repeats === null) return;
    // Code and message only: a connection error's stack says nothing an operator can use.
    log.warn(
      { redis: { code, message: err.message, ...(node ? { node } : {}), repeats } },
      'Redis connection error (requests needing Redis answer 503 until it returns)',
    );
  };
  client.on('error', (err: Error) => onError(err));
  client.on('node error', (err: Error, node: string) => onError(err, node));
  client.on('ready', () => {
    if (!failing) return;
    failing = false;
    gate.reset();
    log.info('Redis connection restored');
  });
  return { lastError: () => lastError };
}
