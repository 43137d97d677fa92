/**
 * Traffic classes in Postgres (docs/protocol.md, Bots and automation): page views and sessions keep the
 * class and reason they were queued with, a session is marked by any marked page view, and the roll-ups
 * are kept per class so that people's figures stay exact.
 */
import type { PageviewRecord } from '@devicelink/protocol';
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { recountRollups, summedRollups } from '../src/rollup-rebuild.js';
import { device, entries, link, pageview } from './queue-records.js';

const MINUTE = 60_000;

const marked = (
  record: PageviewRecord,
  trafficClass: 'bot' | 'automation',
  reason: string,
): PageviewRecord => ({
  ...record,
  trafficClass,
  trafficReason: reason,
  networkHash: 'net-a',
});

describe.runIf(hasServices('postgres'))('traffic classes', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;

  beforeAll(async () => {
    database = await createTestDatabase('traffic');
    db = await createDb({ databaseUrl: database.url });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const humanRollup = async (metric: string): Promise<number> => {
    const { rows } = await sql<{ n: string | null }>`
      select sum(n)::text as n from rollup_hourly where metric = ${metric} and traffic_class = 'human'`.execute(
      db.db,
    );
    return Number(rows[0]?.n ?? 0);
  };

  it('stores the class and reason of page views and sessions, and counts people apart in the roll-ups', async () => {
    const t0 = Date.now() - 60 * MINUTE;
    const [person, crawler, driven] = [device(), device(), device()];
    const [sp, sc, sd] = [uuidv7(), uuidv7(), uuidv7()];
    await writePass(
      db.db,
      [
        entries(
          0,
          pageview(person, sp, t0),
          pageview(person, sp, t0 + MINUTE),
          marked(pageview(crawler, sc, t0), 'bot', 'ua:curl/'),
          pageview(driven, sd, t0),
          // A later page view marked by the page's signals marks the whole session.
          marked(pageview(driven, sd, t0 + MINUTE), 'automation', 'sdk:webdriver'),
          link(driven, 'mallory', t0 + 2 * MINUTE),
        ),
      ],
      30,
    );
    const sessions = await db.db
      .selectFrom('sessions')
      .select(['id', 'traffic_class', 'traffic_reason', 'network_hash'])
      .execute();
    const byId = new Map(sessions.map((s) => [s.id, s]));
    expect(byId.get(sp)).toMatchObject({ traffic_class: 'human', traffic_reason: null, network_hash: null });
    expect(byId.get(sc)).toMatchObject({
      traffic_class: 'bot',
      traffic_reason: 'ua:curl/',
      network_hash: 'net-a',
    });
    expect(byId.get(sd)).toMatchObject({ traffic_class: 'automation', traffic_reason: 'sdk:webdriver' });
    const views = await db.db
      .selectFrom('page_views')
      .select(['device_id', 'traffic_class'])
      .where('device_id', '=', crawler)
      .execute();
    expect(views).toEqual([{ device_id: crawler, traffic_class: 'bot' }]);
    const drivenViews = await db.db
      .selectFrom('page_views')
      .select('traffic_class')
      .where('session_id', '=', sd)
      .execute();
    expect(drivenViews.map((v) => v.traffic_class)).toEqual(['automation', 'automation']);

    // People only: 2 page views, 1 session, no conversion (the driven browser's link is stored, not counted).
    expect(await humanRollup('pv_anon')).toBe(2);
    expect(await humanRollup('sessions')).toBe(1);
    expect(await humanRollup('converted')).toBe(0);
    const link_ = await db.db.selectFrom('identity_links').select('user_id').execute();
    expect(link_).toEqual([{ user_id: 'mallory' }]);
    expect(Object.fromEntries(await summedRollups(db.db))).toEqual(
      Object.fromEntries(await recountRollups(db.db)),
    );
  });

  it('keeps a marked session marked when a later page view of it looks human', async () => {
    const t0 = Date.now() - 50 * MINUTE;
    const d = device();
    const s = uuidv7();
    await writePass(db.db, [entries(1, marked(pageview(d, s, t0), 'bot', 'ua:python-requests'))], 30);
    await writePass(db.db, [entries(1, pageview(d, s, t0 + MINUTE))], 30);
    const row = await db.db
      .selectFrom('sessions')
      .select(['traffic_class', 'traffic_reason', 'page_views'])
      .where('id', '=', s)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ traffic_class: 'bot', traffic_reason: 'ua:python-requests', page_views: 2 });
    // Its page views follow it, so people's page-view figures leave the whole session out.
    const views = await db.db
      .selectFrom('page_views')
      .select('traffic_class')
      .where('session_id', '=', s)
      .execute();
    expect(views.map((v) => v.traffic_class)).toEqual(['bot', 'bot']);
    expect(Object.fromEntries(await summedRollups(db.db))).toEqual(
      Object.fromEntries(await recountRollups(db.db)),
    );
  });
});
