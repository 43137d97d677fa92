/**
 * How long the migration to the partitioned page-view table (`2026-12-01T02-00-01-…`) takes: seeds
 * the old table (one row per event id) with page views whose UUIDv7 ids spread over a year, runs the
 * migration alone, and reports its seconds per million rows. Persisters wait that long (they block
 * on the table lock) while collectors go on accepting onto the queue.
 */
import { performance } from 'node:perf_hooks';
import { createDb, migrationProvider } from '@devicelink/persister';
import { Migrator } from 'kysely';
import pg from 'pg';
import { type BenchServices, createBenchDatabase } from './bench-env.js';
import { fmt, type SectionResult } from './report.js';

const BEFORE = '2026-12-01T02-00-00-link-ended-session';
/** The migration measured: the page-view table's move to monthly partitions (later ones are not timed). */
const MEASURED = '2026-12-01T02-00-01-page-views-by-subject-and-id-time';

/** `n` page views of 50,000 devices, ids with times over 2026 (a v7 id: time, version 7, variant 8). */
async function seed(url: string, n: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `insert into page_views (event_id, device_id, session_id, url, server_ts)
       select
         (lpad(to_hex(t.ms), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
         'seed-device-' || (g % 50000),
         lpad(to_hex(g / 10), 32, '0')::uuid,
         'https://shop.test/p/' || (g % 100),
         timestamptz 'epoch' + t.ms * interval '1 millisecond'
       from generate_series(1, $1::int) as g,
         lateral (select md5(g::text) as h,
           (extract(epoch from timestamptz '2026-01-01Z') * 1000)::bigint + g::bigint * (31536000000 / $1::bigint) as ms) as t`,
      [n],
    );
    await client.query('analyze page_views');
  } finally {
    await client.end();
  }
}

/** Seeds and migrates; resolves with the figures. */
export async function runTableMigration(services: BenchServices, full: boolean): Promise<SectionResult> {
  const started = performance.now();
  const rowsSeeded = full ? 1_000_000 : 250_000;
  const database = await createBenchDatabase(services);
  const db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
  try {
    const migrator = new Migrator({ db: db.db, provider: migrationProvider });
    const before = await migrator.migrateTo(BEFORE);
    if (before.error) throw before.error;
    const seedStart = performance.now();
    await seed(database.url, rowsSeeded);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const t0 = performance.now();
    const result = await migrator.migrateTo(MEASURED);
    const migrateSeconds = (performance.now() - t0) / 1000;
    if (result.error) throw result.error;
    const applied = (result.results ?? []).map((r) => r.migrationName);
    if (applied.length !== 1) throw new Error(`expected one migration, applied ${applied.join(', ')}`);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    let copied = 0;
    let partitions = 0;
    try {
      copied = (await client.query('select count(*)::int as n from page_views')).rows[0].n;
      partitions = (
        await client.query(
          `select count(*)::int as n from pg_inherits where inhparent = 'page_views'::regclass`,
        )
      ).rows[0].n;
    } finally {
      await client.end();
    }
    if (copied !== rowsSeeded) throw new Error(`copied ${copied} page views, not ${rowsSeeded}`);
    const perMillion = migrateSeconds * (1_000_000 / rowsSeeded);
    const rows = [
      {
        rows: rowsSeeded,
        partitions,
        'migration s': fmt(migrateSeconds),
        's per million rows': fmt(perMillion),
        'rows/s': Math.round(rowsSeeded / migrateSeconds),
      },
    ];
    return {
      name: 'table-migration',
      title:
        'Migration to the partitioned page-view table (copy, swap, indexes; persisters wait, ingest goes on)',
      figures: { rowsSeeded, seedSeconds, migrateSeconds, secondsPerMillionRows: perMillion, partitions },
      rows,
      targets: [],
      notes: [`seeding ${rowsSeeded} page views took ${fmt(seedSeconds)} s`],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await db.close();
    await database.drop();
  }
}
