/**
 * Bounded roll-ups: a past hour with more distinct pages or referrer origins than
 * `keysPerHour` keeps the most viewed by name and the rest under `(other)`, its rows bounded; the totals
 * and a recount that maps keys the same way stay equal through late page views, erasures, a second run,
 * a rebuild and a purge; the current hour stays exact per URL; one job runs at a time.
 */
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { purgeExpired } from '../src/retention.js';
import { FOLD_WRITER, foldRollups } from '../src/rollup-folding.js';
import { ROLLUP_OTHER_KEY } from '../src/rollup-metrics.js';
import { rebuildRollups, recountRollups, summedRollups } from '../src/rollup-rebuild.js';
import { device, entries, pageview } from './queue-records.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const url = (i: number) => `https://shop.example/page-${i}`;

describe.runIf(hasServices('postgres'))('bounded roll-ups', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;

  beforeAll(async () => {
    database = await createTestDatabase('rollup-folding');
    db = await createDb({ databaseUrl: database.url });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const expectExact = async () => {
    expect(Object.fromEntries(await summedRollups(db.db))).toEqual(
      Object.fromEntries(await recountRollups(db.db)),
    );
  };
  /** The summed counts of `metric` in `hour` by key, and how many rows hold them. */
  const hourOf = async (metric: string, hour: number) => {
    const rows = await sql<{ key: string; writer: number; n: string }>`
      select key, writer, n::text from rollup_hourly where metric = ${metric} and hour = ${new Date(hour)}
        and traffic_class = 'human'`.execute(db.db);
    const sums: Record<string, number> = {};
    for (const r of rows.rows) sums[r.key] = (sums[r.key] ?? 0) + Number(r.n);
    for (const [k, n] of Object.entries(sums)) if (n === 0) delete sums[k];
    return { sums, rows: rows.rows };
  };

  it('keeps the most viewed keys of a past hour by name and the rest in (other), exact through late writes, erasures, a rebuild and a purge', async () => {
    const now = Date.now();
    const past = Math.floor(now / HOUR) * HOUR - 3 * HOUR;
    const current = Math.floor(now / HOUR) * HOUR;
    // Page i viewed 9 - i times in the past hour, each view a session of its own device (so the entry
    // pages and referrers are as many), over two partitions (two writers).
    const devices: string[][] = [];
    const views = [];
    for (let i = 1; i <= 8; i++) {
      const ids: string[] = [];
      for (let v = 0; v < 9 - i; v++) {
        const d = device();
        ids.push(d);
        views.push(
          pageview(d, uuidv7(), past + i * MINUTE + v, null, {
            url: url(i),
            referrer: `https://ref-${i}.example/`,
          }),
        );
      }
      devices.push(ids);
    }
    // The current hour: as many distinct pages, never folded while it runs.
    for (let i = 1; i <= 6; i++)
      views.push(pageview(device(), uuidv7(), current + i, null, { url: url(100 + i) }));
    await writePass(
      db.db,
      [
        entries(1, ...views.filter((_, i) => i % 2 === 0)),
        entries(2, ...views.filter((_, i) => i % 2 === 1)),
      ],
      30,
    );
    await expectExact();
    const before = await hourOf('page', past);
    expect(Object.keys(before.sums)).toHaveLength(8);

    const first = await foldRollups(db.db, { keysPerHour: 3, now: new Date(now) });
    expect(first).toMatchObject({ ran: true });
    // page, referrer, entry page and entry referrer (no session converted: those two metrics are empty).
    expect(first.folded).toBe(4);
    const folded = await hourOf('page', past);
    // The three most viewed by name, the other five pages' 15 views in (other): the total is the same.
    expect(folded.sums).toEqual({
      [url(1)]: 8,
      [url(2)]: 7,
      [url(3)]: 6,
      [ROLLUP_OTHER_KEY]: 5 + 4 + 3 + 2 + 1,
    });
    expect(folded.rows.every((r) => r.writer === FOLD_WRITER)).toBe(true);
    expect(folded.rows).toHaveLength(4);
    // Referrer origins, entry pages and entry referrers are bounded the same way.
    for (const metric of ['referrer', 'entry_page', 'entry_referrer']) {
      const h = await hourOf(metric, past);
      expect(Object.keys(h.sums).sort(), metric).toHaveLength(4);
      expect(h.sums[ROLLUP_OTHER_KEY], metric).toBe(15);
    }
    // The current hour is exact per URL.
    expect(Object.keys((await hourOf('page', current)).sums)).toHaveLength(6);
    await expectExact();

    // Late writes to the folded hour: a page it does not keep goes to (other), one it keeps by name.
    const late = device();
    await writePass(
      db.db,
      [
        entries(
          3,
          pageview(late, uuidv7(), past + 50 * MINUTE, null, { url: url(9) }),
          pageview(late, uuidv7(), past + 51 * MINUTE, null, { url: url(1) }),
        ),
      ],
      30,
    );
    await expectExact();
    expect((await hourOf('page', past)).sums).toMatchObject({ [url(1)]: 9, [ROLLUP_OTHER_KEY]: 16 });
    // An erasure of a device whose views were folded into (other) subtracts from it.
    await writePass(db.db, [entries(1, { kind: 'erase', deviceId: devices[3]![0]!, ts: now })], 30);
    await expectExact();
    expect((await hourOf('page', past)).sums[ROLLUP_OTHER_KEY]).toBe(15);

    // The next run folds the late writers' rows in; nothing changes in the sums.
    const sums = (await hourOf('page', past)).sums;
    const second = await foldRollups(db.db, { keysPerHour: 3, now: new Date(now) });
    expect(second.tidied).toBeGreaterThanOrEqual(1);
    const tidied = await hourOf('page', past);
    expect(tidied.sums).toEqual(sums);
    expect(tidied.rows.every((r) => r.writer === FOLD_WRITER)).toBe(true);
    await expectExact();

    // A rebuild is exact per key again; folding again bounds it again.
    await rebuildRollups(db.db);
    await expectExact();
    expect(Object.keys((await hourOf('page', past)).sums)).toHaveLength(9);
    await foldRollups(db.db, { keysPerHour: 3, now: new Date(now) });
    expect(Object.keys((await hourOf('page', past)).sums)).toHaveLength(4);
    await expectExact();

    // A purge past the folded hour takes its kept names with it.
    await purgeExpired(db.db, { retentionDays: 1, now: new Date(past + 2 * HOUR + 86_400_000) });
    const kept = await db.db
      .selectFrom('rollup_kept')
      .selectAll()
      .where('hour', '<=', new Date(past))
      .execute();
    expect(kept).toEqual([]);
    await expectExact();
  });

  it('runs in one persister at a time: a run while another holds the job does nothing', async () => {
    const now = Date.now();
    const past = Math.floor(now / HOUR) * HOUR - 5 * HOUR;
    const views = Array.from({ length: 5 }, (_, i) =>
      pageview(device(), uuidv7(), past + i, null, { url: url(200 + i) }),
    );
    await writePass(db.db, [entries(4, ...views)], 30);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(`select pg_advisory_xact_lock(72104, ${FOLD_WRITER})`);
      expect(await foldRollups(db.db, { keysPerHour: 2, now: new Date(now) })).toMatchObject({ ran: false });
      await other.query('rollback');
      expect((await foldRollups(db.db, { keysPerHour: 2, now: new Date(now) })).folded).toBeGreaterThan(0);
    } finally {
      await other.end();
    }
    await expectExact();
  });
});
