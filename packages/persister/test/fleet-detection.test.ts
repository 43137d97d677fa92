/**
 * The fleet job (docs/protocol.md, Bots and automation): fresh one-hit ids of one network at a rate and
 * share no NAT makes are marked `fleet` after the fact, a NAT of returning people never is, an id that
 * comes back is given back, and the roll-ups follow exactly.
 */
import type { LinkRecord, PageviewRecord } from '@devicelink/protocol';
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { markFleets } from '../src/fleet-detection.js';
import { migrate } from '../src/migrate.js';
import { recountRollups, summedRollups } from '../src/rollup-rebuild.js';
import { device, entries, link, pageview } from './queue-records.js';

const MINUTE = 60_000;
const OPTIONS = { windowMinutes: 60, minIds: 40, minSharePercent: 90, quietMinutes: 30 };

const on = (network: string, record: PageviewRecord): PageviewRecord => ({
  ...record,
  trafficClass: 'human',
  networkHash: network,
});

describe.runIf(hasServices('postgres'))('the fleet job', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;

  beforeAll(async () => {
    database = await createTestDatabase('fleet');
    db = await createDb({ databaseUrl: database.url });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const classes = async (network: string) => {
    const { rows } = await sql<{ traffic_class: string; n: number }>`
      select traffic_class, count(*)::int as n from sessions where network_hash = ${network}
      group by 1 order by 1`.execute(db.db);
    return Object.fromEntries(rows.map((r) => [r.traffic_class, r.n]));
  };
  const humanPageViews = async () => {
    const { rows } = await sql<{ n: string | null }>`
      select sum(n)::text as n from rollup_hourly where metric = 'pv_anon' and traffic_class = 'human'`.execute(
      db.db,
    );
    return Number(rows[0]?.n ?? 0);
  };

  it('marks a fleet, spares a NAT of returning people and a small network, and gives back an id that returns', async () => {
    const t0 = Date.now() - 3 * 60 * MINUTE;
    const records: PageviewRecord[] = [];
    const links: LinkRecord[] = [];
    // The fleet: 60 fresh ids in 30 minutes, one page view each, never back.
    const fleet = Array.from({ length: 60 }, () => device());
    for (const [i, d] of fleet.entries())
      records.push(on('net-fleet', pageview(d, uuidv7(), t0 + i * 30_000)));
    // An office: 60 people, a third of them one-hit, the rest click on or sign in.
    for (let i = 0; i < 60; i++) {
      const d = device();
      const s = uuidv7();
      records.push(on('net-office', pageview(d, s, t0 + i * 30_000)));
      if (i % 3 === 1) records.push(on('net-office', pageview(d, s, t0 + i * 30_000 + 10_000)));
      if (i % 3 === 2) links.push(link(d, `worker-${i}`, t0 + i * 30_000 + 20_000));
    }
    // A small network: 10 one-hit ids, below the rate.
    for (let i = 0; i < 10; i++) records.push(on('net-small', pageview(device(), uuidv7(), t0 + i * MINUTE)));
    await writePass(db.db, [entries(0, ...records, ...links)], 30);
    const before = await humanPageViews();

    const now = t0 + 61 * MINUTE;
    const first = await markFleets(db.db, OPTIONS, now);
    expect(first).toEqual({ marked: 60, restored: 0, ran: true });
    expect(await classes('net-fleet')).toEqual({ fleet: 60 });
    expect(await classes('net-office')).toEqual({ human: 60 });
    expect(await classes('net-small')).toEqual({ human: 10 });
    const reason = await db.db
      .selectFrom('sessions')
      .select('traffic_reason')
      .where('network_hash', '=', 'net-fleet')
      .executeTakeFirstOrThrow();
    expect(reason.traffic_reason).toBe('fleet:60/60 in 60m');
    expect(await humanPageViews()).toBe(before - 60);
    const views = await sql<{ n: number }>`
      select count(*)::int as n from page_views where traffic_class = 'fleet'`.execute(db.db);
    expect(views.rows[0]!.n).toBe(60);
    expect(Object.fromEntries(await summedRollups(db.db))).toEqual(
      Object.fromEntries(await recountRollups(db.db)),
    );

    // A second pass finds nothing new; one fleet id comes back the next hour and is given back.
    expect(await markFleets(db.db, OPTIONS, now)).toEqual({ marked: 0, restored: 0, ran: true });
    await writePass(
      db.db,
      [entries(0, on('net-fleet', pageview(fleet[0]!, uuidv7(), t0 + 110 * MINUTE)))],
      30,
    );
    expect(await markFleets(db.db, OPTIONS, now + 20 * MINUTE)).toEqual({
      marked: 0,
      restored: 1,
      ran: true,
    });
    expect(await classes('net-fleet')).toEqual({ fleet: 59, human: 2 });
    expect(Object.fromEntries(await summedRollups(db.db))).toEqual(
      Object.fromEntries(await recountRollups(db.db)),
    );
  });
});
