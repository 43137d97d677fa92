/**
 * The collector's queue seen from Redis: the depth is the sum of XLEN over the partition streams
 * (entries are deleted at acknowledgement, so the length is what is not yet in Postgres), sampled
 * over a window to tell a flat queue from a growing one.
 */
import { DEFAULT_QUEUE_PARTITIONS } from '@devicelink/protocol';
import type { Redis } from 'ioredis';

/** The collector's default key prefix. */
export const REDIS_PREFIX = 'dl:';

/** The stream keys of every partition (the collector's default prefix and partition count). */
export function streamKeys(prefix = REDIS_PREFIX, partitions = DEFAULT_QUEUE_PARTITIONS): string[] {
  return Array.from({ length: partitions }, (_, p) => `${prefix}{p${p}}:q`);
}

/** Entries queued over all partitions now. */
export async function queueDepth(redis: Redis, keys = streamKeys()): Promise<number> {
  const pipeline = redis.pipeline();
  for (const k of keys) pipeline.xlen(k);
  const replies = (await pipeline.exec()) ?? [];
  let sum = 0;
  for (const [err, n] of replies) if (!err) sum += Number(n);
  return sum;
}

/** A depth sample: seconds since the sampler started, entries. */
export type DepthSample = [seconds: number, depth: number];

/** Samples the depth every `intervalMs` until stopped. */
export function sampleDepth(redis: Redis, intervalMs = 500): { stop(): Promise<DepthSample[]> } {
  const samples: DepthSample[] = [];
  const t0 = performance.now();
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push([(performance.now() - t0) / 1000, await queueDepth(redis)]);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** Least-squares slope of the samples, entries per second (0 with fewer than 3 samples). */
export function depthSlope(samples: DepthSample[]): number {
  if (samples.length < 3) return 0;
  const n = samples.length;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of samples) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of samples) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Polls until the queue holds at most `below` entries or `timeoutMs` passed; returns the last depth. */
export async function waitDrained(
  redis: Redis,
  below: number,
  timeoutMs: number,
  keys = streamKeys(),
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const depth = await queueDepth(redis, keys);
    if (depth <= below || Date.now() > deadline) return depth;
    await new Promise((r) => setTimeout(r, 100));
  }
}
