/**
 * Benchmark 7: the embedded mode (no Redis, no Postgres: the memory store with its journal and PGlite
 * in a temporary DATA_DIR, persister on) under the same load as the Redis + Postgres collector.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchContext, withPeakRss } from './bench-context.js';
import type { LoadResult } from './load.js';
import { fmt, pct, type SectionResult } from './report.js';
import { runWrk } from './wrk-load.js';

/** Runs benchmark 7. */
export async function runEmbedded(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const seconds = ctx.settings.sideSeconds;
  const dataDir = mkdtempSync(join(tmpdir(), 'devicelink-bench-'));
  const cells: (LoadResult & { peakRss: number })[] = [];
  try {
    // Blank values count as unset for the collector: embedded store and PGlite.
    const collector = await ctx.startCollector({
      REDIS_URL: '',
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      PERSISTER: 'on',
    });
    try {
      await runWrk({
        url: collector.url,
        connections: 50,
        seconds: ctx.settings.warmupSeconds,
        eventsPerRequest: 1,
      });
      for (const eventsPerRequest of ctx.full ? [1, 10] : [1]) {
        const { result, peakRss } = await withPeakRss(collector, () =>
          runWrk({ url: collector.url, connections: 50, seconds, eventsPerRequest }),
        );
        cells.push({ ...result, peakRss });
        ctx.shared.rss[`embedded, ${eventsPerRequest} ev, 50 conn`] = peakRss;
      }
    } finally {
      await collector.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const redisOn = ctx.shared.ingestOn;
  const rows = cells.map((c) => ({
    mode: 'embedded (memory store + PGlite)',
    'ev/req': c.eventsPerRequest,
    conn: c.connections,
    'req/s': c.reqPerSec,
    'events/s': c.eventsPerSec,
    'p50 ms': c.p50Ms,
    'p99 ms': c.p99Ms,
    failures: c.failures,
    'RSS MB': fmt(c.peakRss / 2 ** 20),
  }));
  if (redisOn) {
    rows.push({
      mode: 'Redis + Postgres (from benchmark 2)',
      'ev/req': 1,
      conn: 50,
      'req/s': redisOn.reqPerSec,
      'events/s': redisOn.eventsPerSec,
      'p50 ms': redisOn.p50Ms,
      'p99 ms': redisOn.p99Ms,
      failures: redisOn.failures,
      'RSS MB': '',
    });
  }
  const one = cells[0];
  return {
    name: 'embedded',
    title: '7. Embedded mode (memory store + PGlite, persister on) beside Redis + Postgres',
    figures: { cells, redisPostgres: redisOn ?? null },
    rows,
    targets: [],
    notes: [
      `${seconds} s windows, 50 connections` +
        (one && redisOn
          ? `; embedded 1 ev/req is ${pct(one.reqPerSec / redisOn.reqPerSec)} of Redis + Postgres`
          : ''),
      'embedded mode runs the store, the queue and PGlite in the collector process: one process, one core for all of it',
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
