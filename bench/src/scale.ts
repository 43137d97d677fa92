/**
 * Benchmark 5: does a request cost more when Redis holds many sessions? Sessions are pre-seeded
 * through the store's own touch script (one Lua call each, pipelined, no page view so nothing is
 * queued); then the same load runs over 1,000 and over the large count (100,000 quick, 1,000,000
 * full), each request touching one of the stored sessions. Then the large pool again with two
 * collector processes on the same Redis and Postgres. The seeding also gives the Redis bytes per
 * live session for benchmark 4.
 */
import { createRedisStore, type DeviceStore } from '@devicelink/fastify';
import { DEFAULT_QUEUE_PARTITIONS, partitionOf, uuidv7 } from '@devicelink/protocol';
import { Redis } from 'ioredis';
import { type BenchContext, withPeakRss } from './bench-context.js';
import type { LoadResult } from './load.js';
import { streamKeys } from './queue-depth.js';
import { fmt, pct, type SectionResult, type Target } from './report.js';
import { runWrk, wrkDeviceIds } from './wrk-load.js';

/** "Flat": the large count costs at most this much more per request than 1,000 sessions. */
const FLAT_TOLERANCE = 0.15;
const SMALL = 1_000;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/**
 * Touches each device once with one page view (the store starts no session without one), then
 * empties the queue and deletes the dedupe sets the seeding made, so what remains is the sessions.
 */
async function seed(
  sessions: DeviceStore,
  redis: Redis,
  prefix: string,
  devices: readonly string[],
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < devices.length) {
      const deviceId = devices[next++]!;
      const event = {
        type: 'pageview' as const,
        url: 'https://shop.example/',
        referrer: null,
        id: uuidv7(),
        clientTs: null,
      };
      await sessions.touch({
        deviceId,
        source: 'header',
        visitorHash: null,
        userAgent: null,
        events: [event],
      });
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  const rate = devices.length / ((performance.now() - started) / 1000);
  await dropQueueAndDedupe(redis, prefix);
  return rate;
}

/** Trims every partition stream of `prefix` to nothing and unlinks its dedupe sets. */
async function dropQueueAndDedupe(redis: Redis, prefix: string): Promise<void> {
  const trim = redis.pipeline();
  for (const key of streamKeys(prefix)) trim.xtrim(key, 'MAXLEN', 0);
  await trim.exec();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*:e:*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Keys under `prefix` (a SCAN: the database is shared, DBSIZE would count other programs' keys). */
async function countKeys(redis: Redis, prefix: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    n += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return n;
}

/** Touches with one page view over `devices`, from this process (no HTTP): touches per second. */
async function directTouches(sessions: DeviceStore, devices: readonly string[], count: number) {
  const started = performance.now();
  let done = 0;
  const worker = async () => {
    while (done < count) {
      done++;
      const deviceId = devices[(Math.random() * devices.length) | 0]!;
      const event = {
        type: 'pageview' as const,
        url: 'https://shop.example/',
        referrer: null,
        id: uuidv7(),
        clientTs: null,
      };
      await sessions.touch({
        deviceId,
        source: 'header',
        visitorHash: null,
        userAgent: 'bench',
        events: [event],
      });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return count / ((performance.now() - started) / 1000);
}

/** Runs benchmark 5. */
export async function runScale(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const { settings } = ctx;
  const large = settings.storedSessions;
  await ctx.clearKeys();
  const client = new Redis(ctx.redisUrl);
  try {
    // The run's prefix and the collector's 64 partitions: the collector below uses the same keys.
    const sessions = await createRedisStore(client, { prefix: ctx.prefix });
    // The ids wrk sends: the small pool is the first SMALL of the large one.
    const largePool = wrkDeviceIds(large);
    const smallPool = largePool.slice(0, SMALL);
    await seed(sessions, ctx.redis, ctx.prefix, smallPool);

    const collector = await ctx.startCollector({ PERSISTER: 'off' });
    const load = (
      url: string,
      devices: readonly string[],
      connections = 50,
      seconds = settings.headlineSeconds,
    ) => runWrk({ url, connections, seconds, eventsPerRequest: 1, devices: devices.length });
    // A longer warm-up than elsewhere: the first measured window follows it directly.
    await load(collector.url, smallPool, 50, settings.warmupSeconds * 2);
    const touchesSmall = await directTouches(sessions, smallPool, 5_000);
    const { result: small, cpuSeconds: smallCpu } = await withPeakRss(collector, () =>
      load(collector.url, smallPool),
    );

    // Same starting point for the large count: no queue, no dedupe sets.
    await dropQueueAndDedupe(ctx.redis, ctx.prefix);
    const before = await usedMemory(ctx.redis);
    const seedRate = await seed(sessions, ctx.redis, ctx.prefix, largePool.slice(SMALL));
    const after = await usedMemory(ctx.redis);
    const sampleKeys = largePool.slice(SMALL, SMALL + 500);
    let usage = 0;
    for (const d of sampleKeys) {
      usage += Number(await ctx.redis.memory('USAGE', sessionKey(ctx.prefix, d), 'SAMPLES', 0));
    }
    ctx.shared.sessionBytes = {
      usedMemoryDelta: (after - before) / (large - SMALL),
      memoryUsage: usage / sampleKeys.length,
      sessions: large - SMALL,
    };
    const stored = await countKeys(ctx.redis, ctx.prefix);

    const touchesLarge = await directTouches(sessions, largePool, 5_000);
    const {
      result: big,
      peakRss,
      cpuSeconds: bigCpu,
    } = await withPeakRss(collector, () => load(collector.url, largePool));
    ctx.shared.rss[`scale, ${large} sessions`] = peakRss;

    // Two collectors on the same Redis and Postgres, the same 50 connections split between them.
    const second = await ctx.startCollector({ PERSISTER: 'off' });
    await load(second.url, largePool, 25, settings.warmupSeconds);
    const [a, b] = await Promise.all([
      load(collector.url, largePool, 25, settings.sideSeconds),
      load(second.url, largePool, 25, settings.sideSeconds),
    ]);
    await second.stop();
    await collector.stop();
    const two: LoadResult = {
      ...a,
      connections: 50,
      reqPerSec: a.reqPerSec + b.reqPerSec,
      eventsPerSec: a.eventsPerSec + b.eventsPerSec,
      p50Ms: Math.max(a.p50Ms, b.p50Ms),
      p99Ms: Math.max(a.p99Ms, b.p99Ms),
      failures: a.failures + b.failures,
      total2xx: a.total2xx + b.total2xx,
    };

    const costRatio = small.reqPerSec / big.reqPerSec;
    const cpuPer = (cpu: number | null, r: LoadResult) =>
      cpu === null ? 'n/a' : (cpu * 1e6) / Math.max(1, r.total2xx);
    const row = (label: string, r: LoadResult, touches?: number, cpu: number | null = null) => ({
      run: label,
      'req/s': r.reqPerSec,
      'µs/request': 1e6 / r.reqPerSec,
      'collector CPU µs/req': cpu === null ? '' : cpuPer(cpu, r),
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      'direct touches/s': touches ?? '',
      failures: r.failures,
    });
    const flat: Target = {
      name: `cost per request, ${large.toLocaleString('en-US')} vs ${SMALL.toLocaleString('en-US')} stored sessions`,
      measured: `${pct(costRatio)} of the small-count cost`,
      limit: `≤ ${pct(1 + FLAT_TOLERANCE)} (flat within ${FLAT_TOLERANCE * 100}%)`,
      met: Number.isFinite(costRatio) ? costRatio <= 1 + FLAT_TOLERANCE : null,
    };
    return {
      name: 'scale',
      title: `5. Scale: ${SMALL.toLocaleString('en-US')} vs ${large.toLocaleString('en-US')} stored sessions; one vs two collectors`,
      figures: {
        small,
        large: big,
        twoCollectors: two,
        costRatio,
        touchesSmall,
        touchesLarge,
        seedRate,
        storedKeys: stored,
      },
      rows: [
        row(`1 collector, ${SMALL.toLocaleString('en-US')} sessions`, small, touchesSmall, smallCpu),
        row(`1 collector, ${large.toLocaleString('en-US')} sessions`, big, touchesLarge, bigCpu),
        row(`2 collectors, ${large.toLocaleString('en-US')} sessions`, two),
      ],
      targets: [flat],
      notes: [
        `sessions seeded through the store's touch script at ${fmt(seedRate)}/s; each request touches a stored session ` +
          '(1 event, 50 connections, persister off); seeding queues one page view per session, then the queue and ' +
          'dedupe sets are emptied so both counts start alike',
        `two collectors vs one: ${pct(two.reqPerSec / big.reqPerSec)} of one collector's req/s; with 2 cores shared by ` +
          'autocannon, Redis and the collectors, a second process adds contention rather than capacity here',
        'direct touches/s: the touch script called from the bench process (64 in flight), without HTTP',
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    client.disconnect();
  }
}

/** The session key of a device: the prefix, its partition tag, `s:` (docs/protocol.md, Names). */
function sessionKey(prefix: string, deviceId: string): string {
  return `${prefix}{p${partitionOf(deviceId, DEFAULT_QUEUE_PARTITIONS)}}:s:${deviceId}`;
}
