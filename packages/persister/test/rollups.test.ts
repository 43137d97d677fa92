/**
 * The hourly roll-ups against a full recount of the rows, after everything that changes rows
 * after they were first counted: redelivered batches, page views and links arriving out of order,
 * conversions corrected by an earlier link, device and user erasure, a data error written entry by
 * entry, several writers, a retention purge, and a fingerprint join and its revocation.
 */
import { createMemoryStore } from '@devicelink/fastify';
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { createPersister } from '../src/persister.js';
import { purgeExpired } from '../src/retention.js';
import { rebuildRollups, recountRollups, summedRollups } from '../src/rollup-rebuild.js';
import { device, entries, link, pageview } from './queue-records.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const SHOP = 'https://shop.example/p?x=1';
describe.runIf(hasServices('postgres'))('roll-ups', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;

  beforeAll(async () => {
    database = await createTestDatabase('rollups');
    db = await createDb({ databaseUrl: database.url });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const expectExact = async () => {
    const recount = await recountRollups(db.db);
    expect(Object.fromEntries(await summedRollups(db.db))).toEqual(Object.fromEntries(recount));
    // The dashboard's device count, kept by triggers, equals the rows as they are.
    const { rows } = await sql<{ kept: string; rows: string }>`
      select (select coalesce(sum(n), 0) from device_count)::text as kept,
             (select count(*) from devices)::text as rows`.execute(db.db);
    expect(rows[0]!.kept).toBe(rows[0]!.rows);
    return recount;
  };

  it('equal a recount after retries, duplicates, out-of-order conversions, erasures and a purge', async () => {
    // Recent enough for the 30-day erasure tombstones to hold; 30 minutes into an hour.
    const t0 = Math.floor((Date.now() - 2 * DAY) / (60 * MINUTE)) * 60 * MINUTE + 30 * MINUTE;
    const [a, b, shared, erased, old] = [device(), device(), device(), device(), device()];
    const [sa1, sa2, sb, ss1, ss2, se, so] = Array.from({ length: 7 }, () => uuidv7()) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];

    // Device a: a session, a login (alice), a second session, a second login (bob).
    const aViews = [
      pageview(a, sa1, t0, null, { url: SHOP, referrer: 'https://Search.example/q?x' }),
      pageview(a, sa1, t0 + MINUTE, null, { url: 'https://shop.example/pricing' }),
      pageview(a, sa2, t0 + 10 * MINUTE, null, { url: SHOP }),
    ];
    // The later link (bob) lands first: session 1 is converted to bob, then corrected to alice.
    await writePass(db.db, [entries(1, aViews[0]!, aViews[2]!, link(a, 'bob', t0 + 11 * MINUTE))], 30);
    await expectExact();
    await writePass(db.db, [entries(1, link(a, 'alice', t0 + 2 * MINUTE))], 30);
    await expectExact();
    // A page view of session 1 that arrives late, and earlier than the link: views before conversion grow.
    await writePass(db.db, [entries(1, aViews[1]!)], 30);
    const a1 = await db.db.selectFrom('sessions').selectAll().where('id', '=', sa1).executeTakeFirstOrThrow();
    expect(a1.converted_user_id).toBe('alice');
    await expectExact();

    // Device b: the link written before the page views it converts; the whole pass delivered twice.
    const bLast = pageview(b, sb, t0 + 2 * MINUTE, null, { url: SHOP });
    const bPass = entries(
      2,
      link(b, 'carol', t0 + 3 * MINUTE),
      pageview(b, sb, t0 + MINUTE, null, { url: SHOP }),
      bLast,
      pageview(null, null, t0 + 4 * MINUTE, 'carol', { url: 'https://shop.example/account' }),
    );
    await writePass(db.db, [bPass], 30);
    await writePass(db.db, [bPass], 30);
    await writePass(db.db, [bPass, entries(3, bLast)], 30);
    await expectExact();

    // A shared device: two users, then the first is erased (its sessions go, the other's stay).
    await writePass(
      db.db,
      [
        entries(
          0,
          pageview(shared, ss1, t0, null, { url: SHOP }),
          link(shared, 'dave', t0 + MINUTE),
          pageview(shared, ss2, t0 + 5 * MINUTE, null, { url: SHOP }),
          link(shared, 'erin', t0 + 6 * MINUTE),
          pageview(null, null, t0 + 7 * MINUTE, 'dave', { url: SHOP }),
        ),
      ],
      30,
    );
    await expectExact();
    await writePass(db.db, [entries(0, { kind: 'erase-user', userId: 'dave', ts: t0 + 8 * MINUTE })], 30);
    expect(await db.db.selectFrom('sessions').select('id').where('id', 'in', [ss1, ss2]).execute()).toEqual([
      { id: ss2 },
    ]);
    await expectExact();

    // A device erased in the pass that wrote its page views.
    await writePass(
      db.db,
      [
        entries(
          2,
          pageview(erased, se, t0, null, { url: SHOP }),
          link(erased, 'frank', t0 + MINUTE),
          { kind: 'erase', deviceId: erased, ts: t0 + 2 * MINUTE },
          pageview(erased, se, t0 + 3 * MINUTE, null, { url: SHOP }),
        ),
      ],
      30,
    );
    await expectExact();

    // A page view Postgres refuses (a NUL in the URL): the pass is written entry by entry through the
    // persister, the bad one dead-lettered, the rest counted once.
    const store = createMemoryStore({ partitions: 2, now: () => t0 });
    try {
      await store.touch({
        deviceId: b,
        source: 'header',
        visitorHash: null,
        userAgent: null,
        events: [
          { type: 'pageview', url: 'https://shop.example/ok', referrer: null, id: uuidv7(), clientTs: t0 },
          {
            type: 'pageview',
            url: 'https://shop.example/\u0000',
            referrer: null,
            id: uuidv7(),
            clientTs: t0,
          },
        ],
      });
      const persister = createPersister({ db: db.db, queue: store, idleMs: 10 });
      expect(await persister.runOnce()).toBe(2);
    } finally {
      await store.close();
    }
    await expectExact();

    // Rows older than the retention limit, then a purge.
    const longAgo = t0 - 100 * DAY;
    await writePass(
      db.db,
      [
        entries(
          3,
          pageview(old, so, longAgo, null, { url: SHOP }),
          pageview(old, so, longAgo + MINUTE, null, { url: SHOP }),
          link(old, 'gina', longAgo + 2 * MINUTE),
          pageview(null, null, longAgo, 'gina', { url: SHOP }),
        ),
      ],
      30,
    );
    await expectExact();
    const purge = await purgeExpired(db.db, { retentionDays: 30, now: new Date(t0), batchSize: 2 });
    expect(purge).toMatchObject({ sessions: 1, pageViews: 3, links: 1, devices: 1 });
    const counts = await expectExact();

    // The figures themselves, from the sums.
    const hour = new Date(t0 - 30 * MINUTE).toISOString();
    const at = (metric: string, key = '') => counts.get(`${metric}|${hour}|${key}`) ?? 0;
    // Anonymous: a 3, b 2 and 'ok' 1, shared 1 (ss1 went with dave), the erased device none.
    expect(at('pv_anon')).toBe(3 + 2 + 1 + 1);
    expect(at('pv_user')).toBe(1);
    // Sessions: a 2, b 2 (sb and the store's), shared 1; all converted (alice, bob, carol twice, erin).
    expect(at('sessions')).toBe(5);
    expect(at('converted')).toBe(5);
    expect(at('referrer', 'https://search.example')).toBe(1);
    expect(at('entry_page_converted', 'https://shop.example/p')).toBe(4);
    expect([...counts.keys()].some((k) => k.includes(new Date(longAgo - 30 * MINUTE).toISOString()))).toBe(
      false,
    );

    // Two writers' rows, and a rebuild gives the same sums.
    const writers = await sql<{
      n: number;
    }>`select count(distinct writer)::int as n from rollup_hourly`.execute(db.db);
    expect(writers.rows[0]!.n).toBeGreaterThan(2);
    await rebuildRollups(db.db);
    expect(Object.fromEntries(await summedRollups(db.db))).toEqual(Object.fromEntries(counts));
  });

  it('a fingerprint join and its revocation leave the roll-ups equal to a recount, unchanged', async () => {
    // Roll-ups keep raw ids (docs/protocol.md, Edges): a join, then its revocation (a twin was seen),
    // change what reports resolve when read, never a stored count.
    const t0 = Math.floor((Date.now() - DAY) / (60 * MINUTE)) * 60 * MINUTE + 30 * MINUTE;
    const [old, minted] = [device(), device()];
    const [so, sm] = [uuidv7(), uuidv7()];
    await writePass(
      db.db,
      [
        entries(
          1,
          pageview(old, so, t0, null, { url: SHOP }),
          pageview(minted, sm, t0 + MINUTE, null, { url: SHOP }),
          { kind: 'edge', edge: 'join', deviceId: minted, otherId: old, ts: t0 + MINUTE },
        ),
      ],
      30,
    );
    const joined = await expectExact();
    await writePass(db.db, [entries(0, { kind: 'unjoin', deviceId: old, ts: t0 + 2 * MINUTE })], 30);
    const revoked = await db.db
      .selectFrom('fingerprint_revocations')
      .select('device_id')
      .where('device_id', '=', old)
      .execute();
    expect(revoked).toHaveLength(1);
    expect(Object.fromEntries(await expectExact())).toEqual(Object.fromEntries(joined));
  });
});
