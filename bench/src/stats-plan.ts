/**
 * The admin stats queries on 1,000,000 page views (moved here from the collector's test suite, where
 * seeding a million rows cost the whole run): seeds 100,000 sessions and 1,000,000 page views in a
 * database of its own, asserts from EXPLAIN that both stats queries go through their indexes and
 * never scan a table that holds rows (empty page-view partitions, months ahead, are scanned at no cost), and reports how long seeding and each query took.
 */
import { performance } from 'node:perf_hooks';
import { pageViewsBeforeConversionQuery, sessionStatsQuery } from '@devicelink/collector';
import { createDb, migrate } from '@devicelink/persister';
import pg from 'pg';
import { type BenchServices, createBenchDatabase } from './bench-env.js';
import { fmt, type SectionResult } from './report.js';

const uuid = (expr: string) => `lpad(to_hex(${expr}), 32, '0')::uuid`;

/** 100,000 sessions over a year (one every 315 s), one in five converted, ten page views each. */
async function seed(url: string): Promise<void> {
  // A plain client: the collector's pool has a query timeout meant for requests.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Sequential ids keep the seeding fast (appends to the primary keys, not random inserts).
    await client.query(`
      insert into sessions (id, device_id, source, first_seen, last_seen, page_views, converted_user_id, converted_at, link_id)
      select
        ${uuid('g')},
        'seed-device-' || (g % 20000),
        'header',
        timestamptz '2025-01-01Z' + g * interval '315 seconds',
        timestamptz '2025-01-01Z' + g * interval '315 seconds' + interval '9 minutes',
        10,
        case when g % 5 = 0 then 'user-' || (g % 7000) end,
        case when g % 5 = 0 then timestamptz '2025-01-01Z' + g * interval '315 seconds' + interval '6 minutes' end,
        case when g % 5 = 0 then ${uuid('g + 1000000000')} end
      from generate_series(1, 100000) as g`);
    await client.query(`
      insert into page_views (event_id, device_id, session_id, url, server_ts, id_time)
      select
        ${uuid('g * 10 + k')},
        'seed-device-' || (g % 20000),
        ${uuid('g')},
        'https://shop.test/p/' || k,
        timestamptz '2025-01-01Z' + g * interval '315 seconds' + k * interval '1 minute',
        timestamptz 'epoch' -- the seeded ids are no UUIDv7: the undated partition
      from generate_series(1, 100000) as g, generate_series(0, 9) as k
      order by g, k`);
    await client.query('analyze');
  } finally {
    await client.end();
  }
}

/** Runs the stats plan checks; throws (failing the bench) when a plan misses its index. */
export async function runStatsPlan(services: BenchServices): Promise<SectionResult> {
  const started = performance.now();
  const database = await createBenchDatabase(services);
  const db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    await migrate(db.db);
    const seedStart = performance.now();
    await seed(database.url);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    cleanups.push(() => client.end());
    const { rows: count } = await client.query('select count(*)::int as n from page_views');
    if (count[0]?.n !== 1_000_000) throw new Error(`seeded ${count[0]?.n} page views, not 1,000,000`);

    const from = new Date('2025-06-01');
    const to = new Date('2025-06-02');
    const checks = [
      {
        query: 'sessions of a day',
        compiled: sessionStatsQuery(from, to),
        needs: [/(Index (Only )?Scan using|Bitmap Index Scan on) sessions_stats_window/],
      },
      {
        query: 'page views before conversion',
        compiled: pageViewsBeforeConversionQuery(from, to),
        // Each page-view partition has its own copy of the index (`<partition>_session_id_server_ts_idx`).
        needs: [/session_id_server_ts_idx/, /sessions_stats_window/],
      },
    ];
    const rows: Record<string, string | number>[] = [];
    for (const check of checks) {
      const compiled = check.compiled.compile(db.db);
      const { rows: plan } = await client.query(`explain ${compiled.sql}`, [...compiled.parameters]);
      const text = plan.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      const missing = check.needs.filter((re) => !re.test(text));
      // Empty page-view partitions (months ahead, the default) are read without an index: 0 pages.
      const scanned = [...text.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]!);
      let scansRows = false;
      for (const table of scanned) {
        const { rows: n } = await client.query(`select exists (select from ${table}) as any`);
        if (n[0]?.any) scansRows = true;
      }
      if (missing.length > 0 || scansRows) {
        throw new Error(
          `the plan of "${check.query}" misses ${missing.join(', ') || 'no index'} or scans:\n${text}`,
        );
      }
      const t0 = performance.now();
      await check.compiled.execute(db.db);
      rows.push({ query: check.query, 'index use': 'yes', 'ms (warm-up run)': fmt(performance.now() - t0) });
    }
    return {
      name: 'stats-plan',
      title: 'Admin stats queries on 1,000,000 page views (EXPLAIN: indexes, no table scan)',
      figures: { seedSeconds, queries: rows },
      rows,
      targets: [],
      notes: [`seeding 100,000 sessions and 1,000,000 page views took ${fmt(seedSeconds)} s`],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const fn of cleanups.reverse()) await fn();
    await db.close();
    await database.drop();
  }
}
