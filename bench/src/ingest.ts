/**
 * Benchmark 2: `POST /v1/events` with 1 and 10 events per request, at 10, 50 and 200 connections,
 * against the collector (real Redis, persister off and on) and a bare Fastify route, in one run.
 * Each server is a child process; autocannon runs here. After the persister-off runs the queue holds
 * every event sent, which is when Redis's bytes per queued entry are measured (for benchmark 4).
 */
import type { Redis } from 'ioredis';
import { type BenchContext, withPeakRss } from './bench-context.js';
import { devicePool, type LoadResult, runLoad } from './load.js';
import { depthSlope, queueDepth, sampleDepth, streamKeys } from './queue-depth.js';
import { fmt, pct, type SectionResult, target } from './report.js';
import { type ServerProcess, startBareFastify, startPluginServer } from './server-process.js';

const CONNECTIONS = [10, 50, 200] as const;
const EVENTS = [1, 10] as const;
/** Devices the load spreads over. */
const DEVICES = 10_000;

type Server =
  | 'bare Fastify'
  | 'Fastify + plugin (Redis)'
  | 'collector, persister off'
  | 'collector, persister on';

interface Cell extends LoadResult {
  server: Server;
  peakRss: number;
  /** CPU time of the server process per 2xx answer, microseconds. */
  cpuUsPerRequest: number | null;
  /** Queue growth over the run, entries/s (persister on, headline cell only). */
  depthSlope?: number;
}

async function bytesPerQueuedEntry(redis: Redis): Promise<number | null> {
  let bytes = 0;
  let entries = 0;
  for (const key of streamKeys()) {
    const len = await redis.xlen(key);
    if (len === 0) continue;
    bytes += Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
    entries += len;
  }
  return entries > 0 ? bytes / entries : null;
}

async function dedupeSetBytes(redis: Redis): Promise<number | null> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', 'dl:*:e:*', 'COUNT', 2000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0' && keys.length < 200);
  if (keys.length === 0) return null;
  let sum = 0;
  for (const k of keys.slice(0, 200)) sum += Number(await redis.memory('USAGE', k, 'SAMPLES', 0));
  return sum / Math.min(keys.length, 200);
}

/** Runs benchmark 2. */
export async function runIngest(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const { settings } = ctx;
  const devices = devicePool(DEVICES);
  const cells: Cell[] = [];
  const isHeadline = (events: number, connections: number) => events === 1 && connections === 50;

  async function warm(proc: ServerProcess) {
    // Unmeasured: lets V8 optimise the hot path and fills connection pools.
    await runLoad({
      url: proc.url,
      connections: 50,
      seconds: settings.warmupSeconds,
      eventsPerRequest: 1,
      devices,
    });
  }

  async function measure(
    server: Server,
    proc: ServerProcess,
    events: number,
    connections: number,
    seconds: number,
  ) {
    const { result, peakRss, cpuSeconds } = await withPeakRss(proc, () =>
      runLoad({ url: proc.url, connections, seconds, eventsPerRequest: events, devices }),
    );
    return { ...result, server, peakRss, cpuSeconds: cpuSeconds ?? Number.NaN };
  }

  function record(parts: Awaited<ReturnType<typeof measure>>[]): Cell {
    // Windows of one cell merged: counts add up; p50 is weighted by answers, p99 is the worst window's.
    const total2xx = parts.reduce((n, p) => n + p.total2xx, 0);
    const seconds = parts.reduce((n, p) => n + p.seconds, 0);
    const cpu = parts.reduce((n, p) => n + p.cpuSeconds, 0);
    const first = parts[0]!;
    const cell: Cell = {
      server: first.server,
      connections: first.connections,
      eventsPerRequest: first.eventsPerRequest,
      seconds,
      total2xx,
      reqPerSec: total2xx / seconds,
      eventsPerSec: (total2xx * first.eventsPerRequest) / seconds,
      p50Ms: parts.reduce((n, p) => n + p.p50Ms * p.total2xx, 0) / Math.max(1, total2xx),
      p99Ms: Math.max(...parts.map((p) => p.p99Ms)),
      failures: parts.reduce((n, p) => n + p.failures, 0),
      peakRss: Math.max(...parts.map((p) => p.peakRss)),
      cpuUsPerRequest: Number.isFinite(cpu) ? (cpu * 1e6) / Math.max(1, total2xx) : null,
    };
    cells.push(cell);
    ctx.shared.rss[`${cell.server}, ${cell.eventsPerRequest} ev, ${cell.connections} conn`] = cell.peakRss;
    return cell;
  }

  async function matrix(server: Server, proc: ServerProcess, skipHeadline: boolean, fiftyOnly = false) {
    for (const events of EVENTS) {
      for (const connections of CONNECTIONS) {
        const headline = isHeadline(events, connections);
        if ((headline && skipHeadline) || (fiftyOnly && connections !== 50)) continue;
        const sampler = headline ? sampleDepth(ctx.redis) : null;
        const seconds = headline ? settings.comparisonSeconds : settings.cellSeconds;
        const cell = record([await measure(server, proc, events, connections, seconds)]);
        if (sampler) cell.depthSlope = depthSlope(await sampler.stop());
      }
    }
  }

  // The target cell (1 event, 50 connections) of bare Fastify, the plugin alone and the collector are
  // measured in alternating windows with all three servers up: background load on a shared machine
  // then weighs on each alike, instead of on whichever ran during a burst.
  await ctx.flushRedis();
  const bare = await startBareFastify();
  const plugin = await startPluginServer(ctx.redisUrl);
  const off = await ctx.startCollector({ PERSISTER: 'off' });
  try {
    for (const proc of [bare, plugin, off]) await warm(proc);
    const rounds = 4;
    const windows: Record<Server, Awaited<ReturnType<typeof measure>>[]> = {
      'bare Fastify': [],
      'Fastify + plugin (Redis)': [],
      'collector, persister off': [],
      'collector, persister on': [],
    };
    for (let i = 0; i < rounds; i++) {
      windows['bare Fastify'].push(
        await measure('bare Fastify', bare, 1, 50, settings.headlineSeconds / rounds),
      );
      windows['collector, persister off'].push(
        await measure('collector, persister off', off, 1, 50, settings.headlineSeconds / rounds),
      );
      windows['Fastify + plugin (Redis)'].push(
        await measure('Fastify + plugin (Redis)', plugin, 1, 50, settings.comparisonSeconds / rounds),
      );
    }
    for (const server of ['bare Fastify', 'Fastify + plugin (Redis)', 'collector, persister off'] as const) {
      record(windows[server]);
    }
    await matrix('bare Fastify', bare, true);
    await matrix('collector, persister off', off, true);
  } finally {
    await Promise.all([bare.stop(), plugin.stop(), off.stop()]);
  }
  const queued = await queueDepth(ctx.redis);
  ctx.shared.queueBytesPerEntry = (await bytesPerQueuedEntry(ctx.redis)) ?? undefined;
  ctx.shared.dedupeSetBytes = (await dedupeSetBytes(ctx.redis)) ?? undefined;

  // A fresh queue: the persister would otherwise spend the whole run on the backlog of the runs above.
  await ctx.flushRedis();
  const on = await ctx.startCollector({ PERSISTER: 'on' });
  try {
    await warm(on);
    // Quick mode keeps the persister-on run to 50 connections (its 1-event cell feeds benchmark 3).
    await matrix('collector, persister on', on, false, !ctx.full);
  } finally {
    await on.stop();
  }

  const find = (server: Server, events: number, connections: number) =>
    cells.find((c) => c.server === server && c.eventsPerRequest === events && c.connections === connections);
  const rows = cells.map((c) => {
    const base = find('bare Fastify', c.eventsPerRequest, c.connections);
    return {
      server: c.server,
      'ev/req': c.eventsPerRequest,
      conn: c.connections,
      seconds: Math.round(c.seconds * 10) / 10,
      'req/s': c.reqPerSec,
      'events/s': c.eventsPerSec,
      'p50 ms': c.p50Ms,
      'p99 ms': c.p99Ms,
      'vs bare': c.server === 'bare Fastify' || !base ? '' : pct(c.reqPerSec / base.reqPerSec),
      'CPU µs/req': c.cpuUsPerRequest ?? 'n/a',
      failures: c.failures,
      'RSS MB': fmt(c.peakRss / 2 ** 20),
    };
  });
  const headlineOff = find('collector, persister off', 1, 50);
  const headlineOn = find('collector, persister on', 1, 50);
  const headlineBare = find('bare Fastify', 1, 50);
  if (headlineOff) ctx.shared.ingestOff = headlineOff;
  if (headlineOn) ctx.shared.ingestOn = { ...headlineOn, depthSlope: headlineOn.depthSlope ?? 0 };
  const ratio = headlineOff && headlineBare ? headlineOff.reqPerSec / headlineBare.reqPerSec : null;
  return {
    name: 'ingest',
    title: '2. Ingest: POST /v1/events (autocannon here, each server in its own process)',
    figures: { cells, devices: DEVICES, queuedAfterPersisterOff: queued, ratioToBare: ratio },
    rows,
    targets: [
      target(
        'ingest 1 ev/req, persister off, 50 conn: share of bare Fastify req/s',
        ratio === null ? null : ratio * 100,
        50,
        '%',
        '>=',
      ),
      target('ingest 1 ev/req, persister off, 50 conn: p99', headlineOff?.p99Ms ?? null, 10, ' ms', '<'),
    ],
    notes: [
      "the load generator (autocannon), the server, Redis and Postgres all share this machine's cores: " +
        'every figure is lower than on a dedicated server and the ratios are what to compare',
      `each request: one of ${DEVICES.toLocaleString('en-US')} device ids (header and cookie), fresh UUIDv7 event ids; ` +
        'the collector logs at warn and its rate limiter (Redis) runs on every request',
      'CPU µs/req: CPU time of the server process alone per answer (Redis, Postgres and autocannon not included)',
      `windows: the 1 ev/req, 50 conn cells of bare Fastify and persister off (the targets) get ${settings.headlineSeconds} s each ` +
        `in 4 alternating windows (p50 weighted, p99 the worst window's), the plugin alone ${settings.comparisonSeconds} s ` +
        `alongside; ${settings.comparisonSeconds} s for that cell with the persister on, ${settings.cellSeconds} s for the others` +
        (ctx.full ? '' : '; quick mode runs the persister-on collector at 50 connections only'),
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
