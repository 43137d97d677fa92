/**
 * Benchmark 2 (bench/README.md, What each figure means): `POST /v1/events` under wrk, each server in its own process, in one run: bare Fastify
 * (the ceiling of the HTTP path), the pinned reference server (one EVALSHA per request: the floor of
 * "one script call per request") and the collector (persister off). The targets are judged against the
 * reference on five rounds of alternating windows (bare, reference, collector, the start rotating each
 * round) at 1 event per request and 50 connections, and three rounds (reference, collector) at 10
 * events per request: the ratios of each round, their median. Then one collector process against two
 * (the machine's cores), a matrix of other cells (10 and 200 connections, 10 events) and the
 * persister-on cell, in short windows.
 */
import type { Redis } from 'ioredis';
import { type BenchContext, withPeakRss } from './bench-context.js';
import { depthSlope, queueDepth, sampleDepth, streamKeys } from './queue-depth.js';
import { fmt, pct, type SectionResult, target } from './report.js';
import { type ServerProcess, startBareFastify, startReferenceServer } from './server-process.js';
import { runWrk, WRK_DEVICES, type WrkResult } from './wrk-load.js';

type Server =
  | 'bare Fastify'
  | 'reference (one EVALSHA)'
  | 'collector, persister off'
  | 'collector, persister on';

interface Window extends WrkResult {
  server: Server;
  peakRss: number;
  cpuSeconds: number;
}

interface Cell extends WrkResult {
  server: Server;
  windows: number;
  peakRss: number;
  /** CPU time of the server process per 2xx answer, microseconds. */
  cpuUsPerRequest: number | null;
  depthSlope?: number;
}

const ROUNDS = 5;
/** Alternating rounds of the 10-events cell (reference and collector). */
const ROUNDS_10 = 3;
const MATRIX: [events: number, connections: number][] = [
  [1, 10],
  [1, 200],
  [10, 10],
  [10, 50],
  [10, 200],
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function bytesPerQueuedEntry(redis: Redis, prefix: string): Promise<number | null> {
  let bytes = 0;
  let entries = 0;
  for (const key of streamKeys(prefix)) {
    const len = await redis.xlen(key);
    if (len === 0) continue;
    bytes += Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
    entries += len;
  }
  return entries > 0 ? bytes / entries : null;
}

async function dedupeSetBytes(redis: Redis, prefix: string): Promise<number | null> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*:e:*`, 'COUNT', 2000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0' && keys.length < 200);
  if (keys.length === 0) return null;
  let sum = 0;
  for (const k of keys.slice(0, 200)) sum += Number(await redis.memory('USAGE', k, 'SAMPLES', 0));
  return sum / Math.min(keys.length, 200);
}

interface CoresFigures {
  one: { reqPerSec: number; p99Ms: number; failures: number };
  two: { reqPerSec: number; p99Ms: number; failures: number; perProcess: number[] };
}

/**
 * One collector process against two (the deployment of docs/deploy.md, one process a core, behind the
 * proxy): `one` under one wrk of 50 connections; a second process beside it, each under its own wrk of
 * 25 connections at the same time, their rates summed.
 */
async function oneAndTwoProcesses(
  ctx: BenchContext,
  one: ServerProcess,
  seconds: number,
): Promise<CoresFigures> {
  const single = await runWrk({ url: one.url, connections: 50, seconds, eventsPerRequest: 1 });
  const second = await ctx.startCollector({ PERSISTER: 'off' });
  try {
    await runWrk({
      url: second.url,
      connections: 25,
      seconds: ctx.settings.warmupSeconds,
      eventsPerRequest: 1,
    });
    const both = await Promise.all(
      [one, second].map((p) => runWrk({ url: p.url, connections: 25, seconds, eventsPerRequest: 1 })),
    );
    return {
      one: { reqPerSec: single.reqPerSec, p99Ms: single.p99Ms, failures: single.failures },
      two: {
        reqPerSec: both.reduce((n, r) => n + r.reqPerSec, 0),
        p99Ms: Math.max(...both.map((r) => r.p99Ms)),
        failures: both.reduce((n, r) => n + r.failures, 0),
        perProcess: both.map((r) => r.reqPerSec),
      },
    };
  } finally {
    await second.stop();
  }
}

/** Runs benchmark 2. */
export async function runIngest(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const { settings } = ctx;
  const cells: Cell[] = [];
  const profile = ctx.profileDir ? { cpuProfileDir: ctx.profileDir } : {};

  async function measure(
    server: Server,
    proc: ServerProcess,
    events: number,
    connections: number,
    seconds: number,
  ) {
    const { result, peakRss, cpuSeconds } = await withPeakRss(proc, () =>
      runWrk({ url: proc.url, connections, seconds, eventsPerRequest: events }),
    );
    return { ...result, server, peakRss, cpuSeconds: cpuSeconds ?? Number.NaN } satisfies Window;
  }
  const warm = (proc: ServerProcess) =>
    runWrk({ url: proc.url, connections: 50, seconds: settings.warmupSeconds, eventsPerRequest: 1 });

  function record(parts: Window[], depth?: number): Cell {
    const total2xx = parts.reduce((n, p) => n + p.total2xx, 0);
    const seconds = parts.reduce((n, p) => n + p.seconds, 0);
    const cpu = parts.reduce((n, p) => n + p.cpuSeconds, 0);
    const first = parts[0]!;
    const cell: Cell = {
      server: first.server,
      windows: parts.length,
      connections: first.connections,
      eventsPerRequest: first.eventsPerRequest,
      seconds,
      total2xx,
      reqPerSec: total2xx / seconds,
      eventsPerSec: (total2xx * first.eventsPerRequest) / seconds,
      // Percentiles of a cell measured in several windows: the median window's.
      p50Ms: median(parts.map((p) => p.p50Ms)),
      p99Ms: median(parts.map((p) => p.p99Ms)),
      maxMs: Math.max(...parts.map((p) => p.maxMs)),
      failures: parts.reduce((n, p) => n + p.failures, 0),
      timeouts: parts.reduce((n, p) => n + p.timeouts, 0),
      peakRss: Math.max(...parts.map((p) => p.peakRss)),
      cpuUsPerRequest: Number.isFinite(cpu) ? (cpu * 1e6) / Math.max(1, total2xx) : null,
      ...(depth === undefined ? {} : { depthSlope: depth }),
    };
    cells.push(cell);
    ctx.shared.rss[`${cell.server}, ${cell.eventsPerRequest} ev, ${cell.connections} conn`] = cell.peakRss;
    return cell;
  }

  await ctx.clearKeys();
  const bare = await startBareFastify({ ...profile, profileName: 'bare' });
  const reference = await startReferenceServer(ctx.redisUrl, `${ctx.prefix}ref:`, {
    ...profile,
    profileName: 'reference',
  });
  const off = await ctx.startCollector({ PERSISTER: 'off' });
  const servers: [Server, ServerProcess][] = [
    ['bare Fastify', bare],
    ['reference (one EVALSHA)', reference],
    ['collector, persister off', off],
  ];
  const rounds: Record<'bare' | 'reference' | 'collector', Window>[] = [];
  const rounds10: Record<'reference' | 'collector', Window>[] = [];
  let cores: CoresFigures | null = null;
  try {
    for (const [, proc] of servers) await warm(proc);
    for (let r = 0; r < ROUNDS; r++) {
      const round: Partial<Record<'bare' | 'reference' | 'collector', Window>> = {};
      // The order rotates, so no server always runs right after another's load.
      for (let i = 0; i < servers.length; i++) {
        const [server, proc] = servers[(r + i) % servers.length]!;
        const w = await measure(server, proc, 1, 50, settings.roundSeconds);
        round[
          server === 'bare Fastify' ? 'bare' : server.startsWith('reference') ? 'reference' : 'collector'
        ] = w;
      }
      rounds.push(round as Record<'bare' | 'reference' | 'collector', Window>);
    }
    for (const key of ['bare', 'reference', 'collector'] as const) record(rounds.map((r) => r[key]));
    for (let r = 0; r < ROUNDS_10; r++) {
      const pair = r % 2 === 0 ? [servers[1]!, servers[2]!] : [servers[2]!, servers[1]!];
      const round: Partial<Record<'reference' | 'collector', Window>> = {};
      for (const [server, proc] of pair) {
        round[server === 'collector, persister off' ? 'collector' : 'reference'] = await measure(
          server,
          proc,
          10,
          50,
          settings.roundSeconds,
        );
      }
      rounds10.push(round as Record<'reference' | 'collector', Window>);
    }
    record(rounds10.map((r) => r.reference));
    cores = await oneAndTwoProcesses(ctx, off, settings.roundSeconds);
    for (const [events, connections] of MATRIX) {
      for (const [server, proc] of [servers[0]!, servers[2]!]) {
        record([await measure(server, proc, events, connections, settings.cellSeconds)]);
      }
    }
  } finally {
    await Promise.all([bare.stop(), reference.stop(), off.stop()]);
  }
  const queued = await queueDepth(ctx.redis, ctx.prefix);
  ctx.shared.queueBytesPerEntry = (await bytesPerQueuedEntry(ctx.redis, ctx.prefix)) ?? undefined;
  ctx.shared.dedupeSetBytes = (await dedupeSetBytes(ctx.redis, ctx.prefix)) ?? undefined;

  // A fresh queue: the persister would otherwise spend the whole run on the backlog of the runs above.
  await ctx.clearKeys();
  const on = await ctx.startCollector({ PERSISTER: 'on' });
  try {
    await warm(on);
    const sampler = sampleDepth(ctx.redis, ctx.prefix);
    const w = await measure('collector, persister on', on, 1, 50, settings.comparisonSeconds);
    record([w], depthSlope(await sampler.stop()));
  } finally {
    await on.stop();
  }

  const cpuPerRequest = (w: Window) => w.cpuSeconds / Math.max(1, w.total2xx);
  const perRound = rounds.map((r) => ({
    toReference: r.collector.reqPerSec / r.reference.reqPerSec,
    cpuToReference: cpuPerRequest(r.collector) / cpuPerRequest(r.reference),
    p99ToReference: r.collector.p99Ms / r.reference.p99Ms,
    toBare: r.collector.reqPerSec / r.bare.reqPerSec,
    referenceToBare: r.reference.reqPerSec / r.bare.reqPerSec,
    p99ToBare: r.collector.p99Ms / r.bare.p99Ms,
  }));
  const perRound10 = rounds10.map((r) => ({
    toReference: r.collector.eventsPerSec / r.reference.eventsPerSec,
    cpuToReference: cpuPerRequest(r.collector) / cpuPerRequest(r.reference),
  }));
  const ratios = {
    toReference: median(perRound.map((r) => r.toReference)),
    cpuToReference: median(perRound.map((r) => r.cpuToReference)),
    p99ToReference: median(perRound.map((r) => r.p99ToReference)),
    toBare: median(perRound.map((r) => r.toBare)),
    referenceToBare: median(perRound.map((r) => r.referenceToBare)),
    p99ToBare: median(perRound.map((r) => r.p99ToBare)),
    tenEventsToReference: median(perRound10.map((r) => r.toReference)),
    tenEventsCpuToReference: median(perRound10.map((r) => r.cpuToReference)),
  };
  const targetFailures = rounds.reduce((n, r) => n + r.collector.failures + r.collector.timeouts, 0);
  const find = (server: Server, events: number, connections: number) =>
    cells.find((c) => c.server === server && c.eventsPerRequest === events && c.connections === connections);
  const headlineOff = find('collector, persister off', 1, 50);
  const headlineOn = find('collector, persister on', 1, 50);
  if (headlineOff) ctx.shared.ingestOff = headlineOff;
  if (headlineOn) ctx.shared.ingestOn = { ...headlineOn, depthSlope: headlineOn.depthSlope ?? 0 };

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
  const roundRows = rounds.map((r, i) => ({
    round: i + 1,
    'bare req/s': r.bare.reqPerSec,
    'reference req/s': r.reference.reqPerSec,
    'collector req/s': r.collector.reqPerSec,
    'vs reference': pct(perRound[i]!.toReference),
    'CPU vs reference': `${fmt(perRound[i]!.cpuToReference)}×`,
    'p99 vs reference': `${fmt(perRound[i]!.p99ToReference)}×`,
    'vs bare': pct(perRound[i]!.toBare),
  }));
  const round10Rows = rounds10.map((r, i) => ({
    round: `${i + 1} (10 ev/req)`,
    'reference req/s': r.reference.reqPerSec,
    'collector req/s': r.collector.reqPerSec,
    'vs reference': pct(perRound10[i]!.toReference),
    'CPU vs reference': `${fmt(perRound10[i]!.cpuToReference)}×`,
  }));
  const coreRows: Record<string, string | number>[] = cores
    ? [
        {
          round: 'one collector process',
          'collector req/s': cores.one.reqPerSec,
          'p99 vs reference': `${fmt(cores.one.p99Ms)} ms`,
        },
        {
          round: 'two collector processes',
          'collector req/s': cores.two.reqPerSec,
          'vs reference': `${fmt(cores.two.reqPerSec / cores.one.reqPerSec)}× one`,
          'p99 vs reference': `${fmt(cores.two.p99Ms)} ms`,
        },
      ]
    : [];
  return {
    name: 'ingest',
    title: '2. Ingest: POST /v1/events under wrk (each server in its own process)',
    figures: {
      rounds,
      perRound,
      rounds10,
      perRound10,
      ratios,
      cores,
      cells,
      targetFailures,
      devices: WRK_DEVICES,
      queuedAfterPersisterOff: queued,
    },
    rows: [...roundRows, ...round10Rows, ...coreRows, ...rows],
    targets: [
      target(
        'ingest 1 ev/req, 50 conn, persister off: req/s vs the reference (median of 5 rounds)',
        ratios.toReference * 100,
        65,
        '%',
        '>=',
      ),
      target(
        "same cell: collector CPU per request / the reference's (median of 5 rounds)",
        ratios.cpuToReference,
        1.5,
        '×',
        '<=',
      ),
      target(
        "same cell: p99 / the reference's p99 (median of 5 rounds)",
        ratios.p99ToReference,
        2,
        '×',
        '<=',
      ),
      target('same cell: answers other than 202, and timeouts', targetFailures, 0, '', '<='),
      target(
        `10 ev/req, 50 conn: events/s vs the reference (median of ${ROUNDS_10} rounds)`,
        ratios.tenEventsToReference * 100,
        65,
        '%',
        '>=',
      ),
    ],
    notes: [
      "wrk (one thread), the servers, Redis and Postgres share this machine's cores: absolute figures are " +
        'far below a dedicated server; the ratios within one round are what to compare',
      `each request: one of ${WRK_DEVICES.toLocaleString('en-US')} device ids (header and cookie), fresh event ids; ` +
        'the collector logs at warn and counts both rate limits (set high enough never to refuse) on every request',
      `the target cell: ${ROUNDS} rounds of ${settings.roundSeconds} s windows per server, the order rotating; ` +
        `other cells ${settings.cellSeconds} s, persister on ${settings.comparisonSeconds} s`,
      'reference: same route, body parsing and response shape, one EVALSHA over six keys (HINCRBY, PEXPIRE, ' +
        'ZADD, XADD) with ioredis auto-pipelining (bench/src/servers/reference-server.ts, pinned)',
      'CPU µs/req: CPU time of the server process alone per 2xx answer (Redis and wrk not included)',
      `vs bare Fastify (no target): median ${pct(ratios.toBare)}; the reference itself is ${pct(ratios.referenceToBare)} of bare`,
      cores
        ? `cores: one collector process under wrk (50 connections) against two processes on the same Redis, ` +
          `each under its own wrk (25 connections), ${settings.roundSeconds} s; wrk, Redis and both processes share the 2 cores`
        : 'cores: not measured',
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
