/**
 * The dashboard's read API at size (bench/README.md, Dashboard): seeds page views, sessions, links and
 * devices straight into a database of its own (1,000,000 page views quick, 10,000,000 with --full), builds
 * the roll-ups from them (`rebuildRollups`: what the persister maintains one pass at a time), checks with
 * EXPLAIN that the dashboard's queries read the roll-up index, then measures with 4 concurrent clients the
 * latency of every dashboard request, each over a range no other request used, with no answer cache anywhere;
 * then the bulk export's throughput with the collector's memory, and a purge while page views are written.
 */
import { performance } from 'node:perf_hooks';
import { timeSeriesQuery, topQuery } from '@devicelink/collector';
import { createDb, migrate, purgeExpired, rebuildRollups } from '@devicelink/persister';
import pg from 'pg';
import type { BenchContext } from './bench-context.js';
import { type BenchServices, createBenchDatabase } from './bench-env.js';
import { ingestDuringPurge } from './purge-under-load.js';
import { fmt, type SectionResult, target } from './report.js';

const TOKEN = 'bench-dashboard-token-0123456789abcdef';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const DAYS = 90;
const uuid = (expr: string) => `lpad(to_hex(${expr}), 32, '0')::uuid`;

/** `sessions` sessions over 90 days, one in five converted, ten page views each, one in ten signed in. */
async function seed(url: string, sessions: number, start: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  const every = (DAYS * 86_400) / sessions;
  const t0 = new Date(start).toISOString();
  const at = (g: string) => `timestamptz '${t0}' + ${g} * interval '${every} seconds'`;
  const devices = Math.max(1, Math.floor(sessions / 5));
  try {
    await client.query(`
      insert into sessions (id, device_id, source, first_seen, last_seen, page_views, converted_user_id, converted_at, link_id)
      select ${uuid('g')}, 'seed-device-' || (g % ${devices}), case when g % 50 = 0 then 'server' else 'header' end,
        ${at('g')}, ${at('g')} + interval '9 minutes', 10,
        case when g % 5 = 0 then 'user-' || (g % ${devices}) end,
        case when g % 5 = 0 then ${at('g')} + interval '6 minutes' + (g % 7) * interval '1 minute' end,
        case when g % 5 = 0 then ${uuid('g + 1000000000')} end
      from generate_series(1, ${sessions}) as g`);
    await client.query(`
      insert into page_views (event_id, device_id, user_id, session_id, url, referrer, server_ts, id_time)
      select ${uuid('g * 10 + k')},
        case when k = 9 and g % 10 = 0 then null else 'seed-device-' || (g % ${devices}) end,
        case when k = 9 and g % 10 = 0 then 'user-' || (g % ${devices}) end,
        case when k = 9 and g % 10 = 0 then null else ${uuid('g')} end,
        'https://shop.test/' || (array['', 'pricing', 'docs', 'blog/' || (g % 40), 'signup', 'about'])[1 + (g + k) % 6],
        case when k = 0 then (array[null, 'https://www.google.com/', 'https://news.ycombinator.com/item', 'https://t.co/x'])[1 + g % 4] end,
        ${at('g')} + k * interval '1 minute',
        -- The partition time as if the ids were minted when the page views happened.
        ${at('g')} + k * interval '1 minute'
      from generate_series(1, ${sessions}) as g, generate_series(0, 9) as k
      order by g, k`);
    await client.query(`
      insert into identity_links (id, device_id, user_id, linked_at)
      select distinct on (device_id, converted_user_id) link_id, device_id, converted_user_id, converted_at
      from sessions where converted_user_id is not null order by device_id, converted_user_id, converted_at`);
    await client.query(`
      insert into devices (device_id, first_seen, last_seen)
      select device_id, min(first_seen), max(last_seen) from sessions group by device_id`);
    // What autovacuum does to a table after a bulk load (its insert threshold): sets the visibility map,
    // without which an index-only scan (the server-made ids, devices per user) reads every heap page.
    await client.query('vacuum analyze');
  } finally {
    await client.end();
  }
}

/** p-th percentile of sorted `xs`. */
const percentile = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/** Runs the dashboard benchmark. */
export async function runDashboard(ctx: BenchContext, services: BenchServices): Promise<SectionResult> {
  const started = performance.now();
  const sessions = ctx.full ? 1_000_000 : 100_000;
  const database = await createBenchDatabase(services);
  const db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
  const notes: string[] = [];
  try {
    await db.maintenance(migrate);
    const start = Math.floor((Date.now() - DAYS * DAY) / DAY) * DAY;
    const t0 = performance.now();
    await seed(database.url, sessions, start);
    const seedSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    // One statement over every page view: minutes at 10,000,000, past the pool's query timeout.
    await db.maintenance(rebuildRollups);
    const rollupSeconds = (performance.now() - t1) / 1000;
    const client = new pg.Client({ connectionString: database.url });
    client.on('error', () => {});
    await client.connect();
    const counts = await client.query(
      `select (select count(*) from page_views)::int as pv, (select count(*) from rollup_hourly)::int as rollups`,
    );
    // What autovacuum does to a table after a bulk load (its insert threshold): sets the visibility map,
    // without which an index-only scan (the server-made ids, devices per user) reads every heap page.
    await client.query('vacuum analyze');

    // EXPLAIN: the series and the top pages read a roll-up index, never a table scan.
    const range = { from: new Date(start + 30 * DAY), to: new Date(start + 60 * DAY) };
    for (const [what, query] of [
      ['time series', timeSeriesQuery(range, 'day', 'Europe/Paris')],
      ['top pages', topQuery(range, 'page', 10)],
    ] as const) {
      const compiled = query.compile(db.db);
      const plan = (await client.query(`explain ${compiled.sql}`, [...compiled.parameters])).rows
        .map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN'])
        .join('\n');
      if (!/Index (Only )?Scan (using|on) rollup_hourly_(pk|hour)/.test(plan) || /Seq Scan/.test(plan)) {
        throw new Error(`the plan of the ${what} does not read the roll-up index:\n${plan}`);
      }
    }
    await client.end();

    const collector = await ctx.startCollector({
      DATABASE_URL: database.url,
      PERSISTER: 'off',
      DASHBOARD_TOKEN: TOKEN,
    });
    try {
      const get = async (path: string): Promise<Response> => {
        const res = await fetch(`${collector.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
        return res;
      };
      // Every request its own range: a random whole-hour start and a 1, 7 or 30-day span.
      let seq = 0;
      const nextRange = () => {
        seq++;
        const span = [1, 7, 30][seq % 3]! * DAY;
        const from = start + Math.floor(Math.random() * ((DAYS * DAY - span) / HOUR)) * HOUR;
        return `from=${new Date(from).toISOString()}&to=${new Date(from + span).toISOString()}`;
      };
      const routes: [string, () => string][] = [
        [
          'timeseries (hour/day)',
          () =>
            `/v1/admin/insights/timeseries?${nextRange()}&bucket=${seq % 3 === 0 ? 'hour' : 'day'}&tz=Europe/Paris`,
        ],
        ['conversion', () => `/v1/admin/insights/conversion?${nextRange()}`],
        ['paths', () => `/v1/admin/insights/paths?${nextRange()}`],
        ['top', () => `/v1/admin/insights/top?${nextRange()}`],
        ['identity', () => '/v1/admin/insights/identity'],
        ['journey', () => `/v1/admin/users/user-${(seq * 7919) % Math.floor(sessions / 5)}`],
      ];
      const perRoute = ctx.full ? 200 : 60;
      const rows: Record<string, string | number>[] = [];
      const p95s: number[] = [];
      for (const [name, path] of routes) {
        const times: number[] = [];
        let left = perRoute;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (left-- > 0) {
              const url = path();
              const s = performance.now();
              await (await get(url)).arrayBuffer();
              times.push(performance.now() - s);
            }
          }),
        );
        times.sort((a, b) => a - b);
        p95s.push(percentile(times, 95));
        rows.push({
          request: name,
          n: times.length,
          'p50 ms': fmt(percentile(times, 50)),
          'p95 ms': fmt(percentile(times, 95)),
          'max ms': fmt(times.at(-1)),
        });
      }

      // Bulk export of every page view, streamed; the collector's resident memory sampled meanwhile.
      const rssBefore = collector.rss() ?? 0;
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, collector.rss() ?? 0);
      }, 100);
      const e0 = performance.now();
      const res = await get(
        `/v1/admin/export/pageviews?from=${new Date(start - DAY).toISOString()}&to=${new Date(start + (DAYS + 1) * DAY).toISOString()}`,
      );
      let bytes = 0;
      let lines = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        for (const b of chunk) if (b === 10) lines++;
      }
      const exportSeconds = (performance.now() - e0) / 1000;
      clearInterval(sampler);
      rows.push({
        request: 'bulk export (NDJSON)',
        n: lines,
        'p50 ms': `${fmt(lines / exportSeconds)} rows/s`,
        'p95 ms': `${fmt(bytes / exportSeconds / 1e6)} MB/s`,
        'max ms': `RSS ${fmt(rssBefore / 1e6)} → peak ${fmt(rssPeak / 1e6)} MB`,
      });

      // A purge of the oldest 30 days (what `npm start -- purge` runs) while a collector with its
      // persister on takes page views: its answers and the lag to Postgres, before, during and after.
      const live = await ctx.startCollector({ DATABASE_URL: database.url, PERSISTER: 'on' });
      const underLoad = await ingestDuringPurge(live.url, database.url, () =>
        purgeExpired(db.db, { retentionDays: DAYS - 30 }),
      ).finally(() => live.stop());
      const purged = underLoad.result;
      const purgeSeconds = underLoad.purgeSeconds;
      for (const p of underLoad.phases) {
        notes.push(
          `${p.phase} the purge${p.phase === 'during' ? ` (${fmt(purgeSeconds)} s)` : ''}: ${p.requests} requests, ` +
            `${p.refused} not 202; answer p50/p95/max ${fmt(p.answerP50Ms)} / ${fmt(p.answerP95Ms)} / ` +
            `${fmt(p.answerMaxMs)} ms; 202 to row in Postgres p50/p95/max ${fmt(p.lagP50Ms)} / ` +
            `${fmt(p.lagP95Ms)} / ${fmt(p.lagMaxMs)} ms`,
        );
      }
      rows.push({
        request: `purge of ${fmt(purged.pageViews)} page views`,
        n: underLoad.accepted,
        'p50 ms': `${underLoad.missing} accepted page views missing`,
        'p95 ms': `during: answers p95 ${fmt(underLoad.phases[1]!.answerP95Ms)} ms`,
        'max ms': `${fmt(purgeSeconds)} s`,
      });
      notes.push(
        `seeded ${counts.rows[0].pv.toLocaleString('en-US')} page views and ${sessions.toLocaleString('en-US')} sessions in ${fmt(seedSeconds)} s; ` +
          `roll-ups rebuilt in ${fmt(rollupSeconds)} s (${counts.rows[0].rollups.toLocaleString('en-US')} roll-up rows)`,
        'EXPLAIN: the time series and the top pages read a roll-up index (rollup_hourly_pk or _hour), no table scan',
        'latency: 4 clients, every request a range no other request used, no answer cache',
        'purge: 4 clients each send one page view every 100 ms to a collector with its persister on, ' +
          '5 s before the purge, during it and 3 s after; lag = from the 202 to the row visible in Postgres',
      );
      const worst = Math.max(...p95s);
      return {
        name: 'dashboard',
        title: `Dashboard read API at ${counts.rows[0].pv.toLocaleString('en-US')} page views`,
        figures: {
          seedSeconds,
          rollupSeconds,
          rows,
          exportSeconds,
          exportLines: lines,
          exportBytes: bytes,
          rssBefore,
          rssPeak,
          purged,
          purgeSeconds,
          purgeUnderLoad: {
            phases: underLoad.phases,
            accepted: underLoad.accepted,
            missing: underLoad.missing,
          },
        },
        rows,
        targets: [
          target('dashboard request p95 (worst route)', worst, 200, ' ms', '<'),
          target(
            'page views accepted during the purge and missing from Postgres',
            underLoad.missing,
            0,
            '',
            '<=',
          ),
          target('ingest answers refused during the purge', underLoad.phases[1]!.refused, 0, '', '<='),
        ],
        notes,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      await collector.stop();
      await ctx.clearKeys();
    }
  } finally {
    await db.close();
    await database.drop();
  }
}
