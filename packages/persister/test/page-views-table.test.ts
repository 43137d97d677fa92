import { type PageviewRecord, type QueueEntry, uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { migrationProvider } from '../src/migrations/index.js';
import { ensurePageViewPartitions, monthPartition, pageViewIdTime } from '../src/page-view-partitions.js';
import { testBackends, useMigratedDatabase } from './test-databases.js';

const device = () => `dev-${uuidv7().replace(/-/g, '')}`;

function pageview(
  eventId: string,
  subject: { deviceId: string } | { userId: string },
  serverTs = Date.now(),
) {
  const record: PageviewRecord = {
    kind: 'pageview',
    eventId,
    deviceId: 'deviceId' in subject ? subject.deviceId : null,
    userId: 'userId' in subject ? subject.userId : null,
    sessionId: 'deviceId' in subject ? uuidv7() : null,
    source: 'deviceId' in subject ? 'header' : null,
    visitorHash: null,
    userAgent: null,
    url: '/p',
    referrer: null,
    clientTs: null,
    serverTs,
  };
  return record;
}

let seq = 0;
const pass = (db: PersisterDb, ...records: PageviewRecord[]) =>
  writePass(
    db.db,
    [
      {
        partition: 0,
        entries: records.map((record): QueueEntry => ({ partition: 0, id: `0-${++seq}`, record })),
      },
    ],
    30,
  );

/** Each page view of `eventId` with the partition holding it. */
async function rowsOf(db: PersisterDb, eventId: string) {
  const { rows } = await sql<{ device_id: string | null; user_id: string | null; partition: string }>`
    select device_id, user_id, tableoid::regclass::text as partition
    from page_views where event_id = ${eventId} order by device_id nulls last`.execute(db.db);
  return rows;
}

const backends = testBackends('pvtable');

describe.each(backends)('the page-view table on %s', (_name, available, open) => {
  const database = useMigratedDatabase(available, open);

  it.runIf(available)(
    'the same event id from two devices and a user gives three rows, each kept once',
    async () => {
      const id = uuidv7();
      const [a, b] = [device(), device()];
      const written = await pass(
        database.db,
        pageview(id, { deviceId: a }),
        pageview(id, { deviceId: b }),
        pageview(id, { userId: 'user-1' }),
      );
      expect(written.pageViewsInserted).toBe(3);
      // Every subject delivers again (a reclaim), and device B once more after the dedup window.
      const again = await pass(
        database.db,
        pageview(id, { deviceId: a }),
        pageview(id, { userId: 'user-1' }),
        pageview(id, { deviceId: b }, Date.now() + 3_600_000),
      );
      expect(again.pageViewsInserted).toBe(0);
      expect((await rowsOf(database.db, id)).map((r) => [r.device_id, r.user_id])).toEqual(
        [
          [a, null],
          [b, null],
          [null, 'user-1'],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      );
    },
  );

  it.runIf(available)(
    'another device sending an id already used never removes or replaces the first row',
    async () => {
      const id = uuidv7();
      const [owner, squatter] = [device(), device()];
      await pass(database.db, { ...pageview(id, { deviceId: owner }), url: '/owner' });
      await pass(database.db, { ...pageview(id, { deviceId: squatter }), url: '/squatter' });
      const { rows } = await sql<{ url: string }>`
      select url from page_views where event_id = ${id} and device_id = ${owner}`.execute(database.db.db);
      expect(rows).toEqual([{ url: '/owner' }]);
      const sessions = await database.db.db
        .selectFrom('sessions')
        .select('page_views')
        .where('device_id', '=', squatter)
        .execute();
      expect(sessions).toEqual([{ page_views: 1 }]);
    },
  );

  it.runIf(available)(
    'a UUIDv7 id lands in the month of its own time, an id of another version in the undated partition',
    async () => {
      const recent = uuidv7();
      const v4 = crypto.randomUUID();
      await pass(database.db, pageview(recent, { deviceId: device() }), pageview(v4, { deviceId: device() }));
      expect((await rowsOf(database.db, recent))[0]!.partition).toBe(monthPartition(Date.now()).name);
      expect((await rowsOf(database.db, v4))[0]!.partition).toBe('page_views_undated');
      expect(pageViewIdTime(v4).getTime()).toBe(0);
    },
  );

  it.runIf(available)(
    'a page view whose month does not exist yet waits in the default partition and moves into its month once created',
    async () => {
      const later = Date.UTC(2101, 4, 15);
      const id = uuidv7(later);
      const d = device();
      await pass(database.db, pageview(id, { deviceId: d }));
      expect((await rowsOf(database.db, id))[0]!.partition).toBe('page_views_default');
      await ensurePageViewPartitions(database.db.db, later);
      expect((await rowsOf(database.db, id)).map((r) => r.partition)).toEqual(['page_views_y2101m05']);
      // The same event delivered again still meets its row.
      expect((await pass(database.db, pageview(id, { deviceId: d }))).pageViewsInserted).toBe(0);
      await sql`drop table page_views_y2101m05, page_views_y2101m06, page_views_y2101m07`.execute(
        database.db.db,
      );
    },
  );
});

describe.runIf(hasServices('postgres'))('the migration to the partitioned page-view table', () => {
  it('copies every row once with its id time, and a retry of a copied event lands once', async () => {
    const database = await createTestDatabase('pvmigrate');
    const db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
    try {
      const migrator = new Migrator({ db: db.db, provider: migrationProvider });
      const before = await migrator.migrateTo('2026-12-01T02-00-00-link-ended-session');
      expect(before.error).toBeUndefined();
      const d = device();
      const ids = [uuidv7(Date.UTC(2026, 0, 3, 10, 0, 0, 123)), uuidv7(), crypto.randomUUID()];
      const old = db.db as unknown as import('kysely').Kysely<Record<string, Record<string, unknown>>>;
      await old
        .insertInto('page_views')
        .values(ids.map((id) => ({ event_id: id, device_id: d, url: '/old', server_ts: new Date() })))
        .execute();
      // The table migration, then the insights migration after it (its indexes on the new table) and the fences.
      expect(await migrate(db.db)).toEqual(
        await migrationsFrom('2026-12-01T02-00-01-page-views-by-subject-and-id-time'),
      );
      const { rows } = await sql<{ event_id: string; id_time: Date }>`
        select event_id, id_time from page_views where device_id = ${d}`.execute(db.db);
      expect(rows).toHaveLength(3);
      for (const r of rows) expect(r.id_time.getTime()).toBe(pageViewIdTime(r.event_id).getTime());
      const retried = await pass(db, ...ids.map((id) => pageview(id, { deviceId: d })));
      expect(retried.pageViewsInserted).toBe(0);
    } finally {
      await db.close();
      await database.drop();
    }
  });
});

/** The names of every migration from `first` on, in the order the Migrator applies them. */
async function migrationsFrom(first: string): Promise<string[]> {
  const names = Object.keys(await migrationProvider.getMigrations()).sort();
  return names.slice(names.indexOf(first));
}
