/**
 * Benchmark 3: persistence. The persister's capacity is the highest fixed rate (autocannon
 * `overallRate`, i.e. `-R`) at which the queue depth (sum of XLEN over the partition streams) stays
 * flat over the window, with the persister in its own process (`node dist/server.js persist`) beside a
 * `PERSISTER=off` collector: what one persister writes, not what ingest accepts. Then, at half that
 * rate, the lag from a 202 to the row being visible in Postgres: sampled requests with known event ids,
 * polled by primary key.
 */
import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@devicelink/protocol';
import pg from 'pg';
import type { BenchContext } from './bench-context.js';
import { devicePool, runLoad } from './load.js';
import { depthSlope, sampleDepth, waitDrained } from './queue-depth.js';
import { fmt, pct, type SectionResult, target } from './report.js';
import { type ServerProcess, startPersister } from './server-process.js';

/** The queue counts as flat when it grows by at most this share of the rate (or 20 entries/s). */
const FLAT_SHARE = 0.03;
/** Lag samples per second during the half-rate window. */
const SAMPLES_PER_SECOND = 20;
/** Polling interval of Postgres for the sampled ids: the lag's resolution. */
const POLL_MS = 20;

interface Trial {
  offered: number;
  achieved: number;
  slope: number;
  flat: boolean;
  p99Ms: number;
}

/** Largest queue growth, entries/s, that still counts as flat at `rate`. */
function flatLimit(rate: number): number {
  return Math.max(FLAT_SHARE * rate, 20);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Sends `SAMPLES_PER_SECOND` tagged requests per second for `seconds` and times each until its row is visible. */
async function sampleLag(collector: ServerProcess, databaseUrl: string, seconds: number) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const accepted = new Map<string, number>();
  const lags: number[] = [];
  let sending = true;
  let failed = 0;
  const device = randomBytes(16).toString('hex');
  const sender = (async () => {
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const id = uuidv7();
      const body = JSON.stringify({ events: [{ type: 'pageview', url: 'https://shop.example/lag', id }] });
      const res = await fetch(`${collector.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-device-fingerprint': device },
        body,
      }).catch(() => null);
      if (res?.status === 202) accepted.set(id, performance.now());
      else failed++;
      await res?.arrayBuffer().catch(() => {});
      await new Promise((r) => setTimeout(r, 1000 / SAMPLES_PER_SECOND));
    }
    sending = false;
  })();
  const poller = (async () => {
    let deadline = Number.POSITIVE_INFINITY;
    while (sending || (accepted.size > 0 && performance.now() < deadline)) {
      if (!sending && deadline === Number.POSITIVE_INFINITY) deadline = performance.now() + 5_000;
      if (accepted.size > 0) {
        // The snapshot is taken when the query starts: a row found was visible by then.
        const asked = performance.now();
        // By the table's key (subject, event id): no index serves an event id alone.
        const { rows } = await db.query<{ id: string }>(
          'select event_id::text as id from page_views where device_id = $1 and event_id = any($2::uuid[])',
          [device, [...accepted.keys()]],
        );
        for (const { id } of rows) {
          lags.push(Math.max(0, asked - accepted.get(id)!));
          accepted.delete(id);
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  await sender;
  await poller;
  await db.end();
  lags.sort((a, b) => a - b);
  return {
    samples: lags.length,
    notVisibleIn5s: accepted.size,
    failed,
    p50Ms: quantile(lags, 0.5),
    p95Ms: quantile(lags, 0.95),
    maxMs: lags.at(-1) ?? Number.NaN,
  };
}

/** The persister of the bench's keys and database, in its own process. */
const ownPersister = (ctx: BenchContext) =>
  startPersister({ REDIS_URL: ctx.redisUrl, REDIS_KEY_PREFIX: ctx.prefix, DATABASE_URL: ctx.databaseUrl });

/** The search and the lag with one persister in its own process beside a `PERSISTER=off` collector. */
async function measureSeparate(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const { settings } = ctx;
  const devices = devicePool(10_000);
  await ctx.clearKeys();
  const collector = await ctx.startCollector({ PERSISTER: 'off' });
  const persister = await ownPersister(ctx);
  const trials: Trial[] = [];

  async function fixedRate(rate: number): Promise<Trial> {
    // Start from an empty queue, so a backlog from the previous trial is not mistaken for growth.
    await waitDrained(ctx.redis, ctx.prefix, 1_000, 20_000);
    const sampler = sampleDepth(ctx.redis, ctx.prefix);
    const r = await runLoad({
      url: collector.url,
      connections: 50,
      seconds: settings.headlineSeconds,
      eventsPerRequest: 1,
      devices,
      ...(Number.isFinite(rate) ? { rate } : {}),
    });
    // The first second is ramp-up: autocannon opens connections and the persister wakes.
    const samples = (await sampler.stop()).filter(([t]) => t >= 1);
    const slope = depthSlope(samples);
    const trial = {
      offered: rate,
      achieved: r.reqPerSec,
      slope,
      flat: slope <= flatLimit(r.reqPerSec),
      p99Ms: r.p99Ms,
    };
    trials.push(trial);
    return trial;
  }

  try {
    await runLoad({
      url: collector.url,
      connections: 50,
      seconds: settings.warmupSeconds,
      eventsPerRequest: 1,
      devices,
    });
    // Bounds of the search. Below: what the persister drained while ingest ran unlimited (it competes
    // with ingest for CPU there, so a lower fixed rate leaves it more). Above: what ingest accepts.
    const unlimited = await fixedRate(Number.POSITIVE_INFINITY);
    let best: Trial | null = null;
    if (unlimited.flat) {
      // The persister kept up with everything ingest accepted: that is the sustainable rate here.
      best = unlimited;
    } else {
      let lo = Math.max(1, unlimited.achieved - unlimited.slope);
      let hi = Math.max(lo * 1.2, ctx.shared.ingestOff?.reqPerSec ?? unlimited.achieved);
      const maxTrials = ctx.full ? 6 : 3;
      for (let i = 0; i < maxTrials && hi - lo > 0.05 * hi; i++) {
        const t = await fixedRate(Math.floor((lo + hi) / 2));
        if (t.flat) {
          best = !best || t.achieved > best.achieved ? t : best;
          lo = t.achieved;
          // Ingest itself could not deliver the rate: nothing higher can be offered.
          if (t.achieved < 0.9 * t.offered) break;
        } else {
          hi = t.offered;
          // What the persister drained at this load is a better floor than the unlimited run's.
          lo = Math.min(hi * 0.9, Math.max(lo, t.achieved - t.slope));
        }
      }
      // No flat rate found: step down to 90% of what was drained in the last window (at most twice).
      for (let i = 0, rate = Math.floor(lo * 0.9); !best && i < 2 && rate > 10; i++) {
        const t = await fixedRate(rate);
        if (t.flat) best = t;
        rate = Math.floor(Math.min(rate * 0.7, Math.max(1, t.achieved - t.slope) * 0.9));
      }
    }
    const maxRate = best?.achieved ?? null;
    let lag: Awaited<ReturnType<typeof sampleLag>> | null = null;
    let halfRate: number | null = null;
    if (maxRate !== null) {
      halfRate = Math.floor(maxRate / 2);
      await waitDrained(ctx.redis, ctx.prefix, 1_000, 20_000);
      const load = runLoad({
        url: collector.url,
        connections: 50,
        seconds: settings.headlineSeconds,
        eventsPerRequest: 1,
        devices,
        rate: halfRate,
      });
      lag = await sampleLag(collector, ctx.databaseUrl, settings.headlineSeconds);
      await load;
    }
    const ingestRate = ctx.shared.ingestOff?.reqPerSec ?? null;
    const ratio = maxRate !== null && ingestRate ? maxRate / ingestRate : null;
    const rows: Record<string, string | number>[] = trials.map((t) => ({
      run: Number.isFinite(t.offered) ? `fixed rate ${fmt(t.offered)}/s` : 'unlimited',
      'events/s accepted': t.achieved,
      'queue growth/s': t.slope,
      flat: t.flat ? 'yes' : 'no',
      'p99 ms': t.p99Ms,
    }));
    rows.push({
      run: 'persister capacity (max flat rate)',
      'events/s accepted': maxRate ?? 'n/a',
      'queue growth/s': '',
      flat: ratio === null ? '' : `${pct(ratio)} of ingest`,
      'p99 ms': '',
    });
    if (lag) {
      rows.push({
        run: `accept-to-row lag at ${fmt(halfRate)}/s`,
        'events/s accepted': `p50 ${fmt(lag.p50Ms)} ms`,
        'queue growth/s': `p95 ${fmt(lag.p95Ms)} ms`,
        flat: `max ${fmt(lag.maxMs)} ms`,
        'p99 ms': `${lag.samples} samples`,
      });
    }
    return {
      name: 'persistence',
      title:
        "3. Persistence: one persister's capacity (its own process, fixed-rate search, 1 event/request) and accept-to-row lag",
      figures: {
        trials,
        persisterCapacityEventsPerSec: maxRate,
        ratioToIngest: ratio,
        ingestReqPerSec: ingestRate,
        halfRate,
        lag,
      },
      rows,
      targets: [
        {
          name: "one persister's capacity, own process (ratio to one collector's ingest, persister off)",
          measured: maxRate === null ? 'n/a' : `${fmt(maxRate)} events/s (${pct(ratio)})`,
          limit: 'reported',
          met: maxRate !== null,
        },
        target('p95 accept-to-row lag at half the capacity', lag?.p95Ms ?? null, 1000, ' ms', '<='),
      ],
      notes: [
        `flat: least-squares growth of the queue depth (sampled every 0.5 s after the first second) at most ${FLAT_SHARE * 100}% of the rate`,
        `lag: ${SAMPLES_PER_SECOND} tagged requests/s on top of the load, Postgres polled every ${POLL_MS} ms by event id ` +
          `(resolution ${POLL_MS} ms); a sample not visible within 5 s counts as missing (${lag?.notVisibleIn5s ?? 0})`,
        'the persister, the collector, autocannon, Redis and Postgres share the cores: the persister competes with ingest for CPU',
        'the search stops at the rate ingest itself can deliver: a capacity equal to it means the persister kept up with all of it',
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await persister.stop();
    await collector.stop();
  }
}

/**
 * Full mode only: the same unlimited load with the persister inside the collector (`PERSISTER=on`), with
 * 64 and with 4 partitions, which shows what sharing the process costs and how much of the drain rate
 * goes to the per-partition loop.
 */
async function variants(ctx: BenchContext): Promise<Record<string, string | number>[]> {
  const devices = devicePool(10_000);
  const rows: Record<string, string | number>[] = [];
  const cases: { label: string; env: Record<string, string> }[] = [
    { label: 'unlimited, persister inside the collector', env: { PERSISTER: 'on' } },
    {
      label: 'unlimited, persister inside, QUEUE_PARTITIONS=4',
      env: { PERSISTER: 'on', QUEUE_PARTITIONS: '4' },
    },
  ];
  for (const c of cases) {
    await ctx.clearKeys();
    const collector = await ctx.startCollector(c.env);
    try {
      await runLoad({
        url: collector.url,
        connections: 50,
        seconds: ctx.settings.warmupSeconds,
        eventsPerRequest: 1,
        devices,
      });
      await waitDrained(ctx.redis, ctx.prefix, 1_000, 20_000);
      const sampler = sampleDepth(ctx.redis, ctx.prefix);
      const r = await runLoad({
        url: collector.url,
        connections: 50,
        seconds: ctx.settings.headlineSeconds,
        eventsPerRequest: 1,
        devices,
      });
      const slope = depthSlope((await sampler.stop()).filter(([t]) => t >= 1));
      rows.push({
        run: c.label,
        'events/s accepted': r.reqPerSec,
        'queue growth/s': slope,
        flat: slope <= flatLimit(r.reqPerSec) ? 'yes' : 'no',
        'p99 ms': r.p99Ms,
      });
    } finally {
      await collector.stop();
    }
  }
  return rows;
}

/** Runs benchmark 3 (after ingest, whose collector figure the capacity is compared with). */
export async function runPersistence(ctx: BenchContext): Promise<SectionResult> {
  const result = await measureSeparate(ctx);
  if (!ctx.full) return result;
  const started = performance.now();
  const extra = await variants(ctx);
  return {
    ...result,
    rows: [...result.rows, ...extra],
    figures: { ...result.figures, variants: extra },
    seconds: result.seconds + (performance.now() - started) / 1000,
  };
}
