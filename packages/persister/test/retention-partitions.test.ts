/**
 * Retention and roll-ups on the partitioned page-view table (page-view-partitions.ts), on Postgres and
 * embedded PGlite: a purge drops the months wholly past the limit and deletes in batches only in the
 * boundary month and the default and undated partitions; roll-ups count only the rows an insert
 * really made, now that one event id may belong to several subjects.
 */
import { uuidv7 } from '@devicelink/protocol';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { ensurePageViewPartitions, monthPartition } from '../src/page-view-partitions.js';
import { purgeExpired, retentionCutoff } from '../src/retention.js';
import { recountRollups, summedRollups } from '../src/rollup-rebuild.js';
import { device, entries, pageview } from './queue-records.js';
import { testBackends, useMigratedDatabase } from './test-databases.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

const backends = testBackends('retention_parts');

describe.each(backends)(
  'retention and roll-ups on the partitioned page views (%s)',
  (_name, available, open) => {
    const database = useMigratedDatabase(available, open);

    const expectExact = async () =>
      expect(Object.fromEntries(await summedRollups(database.db.db))).toEqual(
        Object.fromEntries(await recountRollups(database.db.db)),
      );
    const exists = async (name: string) =>
      (
        await sql<{ found: string | null }>`select to_regclass(${name})::text as found`.execute(
          database.db.db,
        )
      ).rows[0]?.found != null;
    const eventIds = async () =>
      (await database.db.db.selectFrom('page_views').select('event_id').execute())
        .map((r) => r.event_id)
        .sort();

    it.runIf(available)(
      'roll-ups count only the rows inserted when another subject already has the event id',
      async () => {
        const id = uuidv7();
        const [a, b] = [device(), device()];
        const now = Date.now();
        await writePass(database.db.db, [entries(0, pageview(a, uuidv7(), now, null, { eventId: id }))], 30);
        await expectExact();
        // The same id from another device and a user, with the first device's retry, in one batch.
        await writePass(
          database.db.db,
          [
            entries(
              0,
              pageview(b, uuidv7(), now + 1000, null, { eventId: id, url: '/b' }),
              pageview(null, null, now + 1000, 'user-1', { eventId: id, url: '/u' }),
              pageview(a, uuidv7(), now + 2000, null, { eventId: id }),
            ),
          ],
          30,
        );
        await expectExact();
        const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from page_views where event_id = ${id}`.execute(database.db.db);
        expect(rows[0]?.n).toBe(3);
      },
    );

    it.runIf(available)(
      'a purge drops the months past the limit and deletes in batches only in the boundary month',
      async () => {
        const now = Date.now();
        const retentionDays = 40;
        const cutoff = retentionCutoff(retentionDays, new Date(now));
        // Months from 100 days ago on exist (a database that has run that long).
        await ensurePageViewPartitions(database.db.db, now - 100 * DAY);
        const oldMonth = monthPartition(now - 100 * DAY);
        expect(await exists(oldMonth.name)).toBe(true);

        const user = `u-${uuidv7()}`;
        const at = (ms: number, url: string, eventId = uuidv7(ms)) =>
          pageview(null, null, ms, user, { url, eventId });
        const gone = [
          at(now - 100 * DAY, '/old-month-1'),
          at(now - 100 * DAY + HOUR, '/old-month-2'),
          at(cutoff.getTime() - HOUR, '/boundary-before'),
          at(cutoff.getTime() - 2 * HOUR, '/boundary-before-2'),
          // A client clock years behind: no month holds it (the default partition).
          at(now - 3000 * DAY, '/default-old'),
          // An id without a time (not v7): its server time counts.
          at(now - 50 * DAY, '/undated-old', crypto.randomUUID()),
        ];
        const kept = [
          at(cutoff.getTime() + HOUR, '/boundary-after'),
          at(now, '/now'),
          at(now + 400 * DAY, '/default-future'),
          at(now - DAY, '/undated-new', crypto.randomUUID()),
        ];
        const before = await eventIds();
        await writePass(database.db.db, [entries(1, ...gone, ...kept)], 30);
        await expectExact();

        const result = await purgeExpired(database.db.db, {
          retentionDays,
          now: new Date(now),
          batchSize: 1,
        });
        expect(result.pageViews).toBe(gone.length);
        expect(await exists(oldMonth.name)).toBe(false);
        // The months from the cutoff's on stay.
        expect(await exists(monthPartition(cutoff.getTime()).name)).toBe(true);
        expect(await exists(monthPartition(now).name)).toBe(true);
        const left = await eventIds();
        expect(left).toEqual([...before, ...kept.map((p) => p.eventId)].sort());
        await expectExact();

        // Nothing left to remove: a second pass removes nothing.
        const again = await purgeExpired(database.db.db, { retentionDays, now: new Date(now), batchSize: 1 });
        expect(again.pageViews).toBe(0);
        await expectExact();
      },
    );

    it.runIf(available)(
      "a purge ages page views by when they were received, never by their ids' time: ids dated 2015 or 45 and 75 days back accepted today stay, a future-dated id received long ago goes, and sessions' counts equal their rows",
      async () => {
        const now = Date.now();
        const retentionDays = 30;
        const cutoff = retentionCutoff(retentionDays, new Date(now));
        await ensurePageViewPartitions(database.db.db, now - 100 * DAY);
        const oldMonth = monthPartition(now - 75 * DAY);
        expect(await exists(oldMonth.name)).toBe(true);
        expect(oldMonth.to.getTime()).toBeLessThanOrEqual(cutoff.getTime());
        const d = device();
        const today = uuidv7();
        // One session today, whose browser clock minted ids in 2015, 45 and 75 days back and now.
        const session = (eventMs: number, url: string) =>
          pageview(d, today, now - 60_000, null, { url, eventId: uuidv7(eventMs) });
        const kept = [
          session(Date.UTC(2015, 5, 1), '/clock-2015'),
          session(now - 45 * DAY, '/clock-45-days'),
          session(now - 75 * DAY, '/clock-75-days'),
          session(now, '/clock-right'),
        ];
        // Received 50 days ago (its session too) with an id a year ahead: past retention.
        const oldSession = uuidv7(now - 50 * DAY);
        const gone = [
          pageview(d, oldSession, now - 50 * DAY, null, {
            url: '/future-id',
            eventId: uuidv7(now + 365 * DAY),
          }),
        ];
        await writePass(database.db.db, [entries(1, ...kept, ...gone)], 30);
        await expectExact();

        const result = await purgeExpired(database.db.db, {
          retentionDays,
          now: new Date(now),
          batchSize: 2,
        });
        // (The earlier tests' rows older than this shorter limit go too.)
        expect(result.pageViews).toBeGreaterThanOrEqual(gone.length);
        expect(result.sessions).toBeGreaterThanOrEqual(1);
        // The 75-day month went; the row received today moved out of it first.
        expect(await exists(oldMonth.name)).toBe(false);
        const left = await database.db.db
          .selectFrom('page_views')
          .select('event_id')
          .where('device_id', '=', d)
          .execute();
        expect(left.map((r) => r.event_id).sort()).toEqual(kept.map((p) => p.eventId).sort());
        const { rows } = await sql<{ page_views: number; n: number }>`
          select s.page_views, (select count(*)::int from page_views as pv where pv.session_id = s.id) as n
          from sessions as s where s.device_id = ${d}`.execute(database.db.db);
        expect(rows).toEqual([{ page_views: kept.length, n: kept.length }]);
        await expectExact();
      },
    );
  },
);
