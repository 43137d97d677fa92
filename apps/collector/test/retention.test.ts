/**
 * Retention (docs/protocol.md, Erasure): `npm start -- purge` on a database seeded with rows older than
 * RETENTION_DAYS removes exactly those, and the roll-ups still equal a recount of what is left.
 */
import { randomUUID } from 'node:crypto';
import {
  createDb,
  migrate,
  type PersisterDb,
  rebuildRollups,
  recountRollups,
  summedRollups,
} from '@devicelink/persister';
import { uuidv7 } from '@devicelink/protocol';
import {
  COLLECTOR_SERVER,
  hasServices,
  openServices,
  startProcess,
  type TestServices,
} from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DAY = 86_400_000;

describe.runIf(hasServices('postgres'))('npm start -- purge', () => {
  let services: TestServices;
  let db: PersisterDb;

  beforeAll(async () => {
    services = await openServices('retention', { redis: false });
    db = await createDb({ databaseUrl: services.env.DATABASE_URL! });
    services.defer(() => db.close());
    await migrate(db.db);
  });
  afterAll(() => services?.close());

  /** A device with one session of `views` page views at `at`, linked to `user` a minute later. */
  async function seed(label: string, at: number, views: number, user: string | null) {
    const device = `${label}-${randomUUID()}`;
    const session = randomUUID();
    await db.db
      .insertInto('devices')
      .values({ device_id: device, first_seen: new Date(at), last_seen: new Date(at + views * 1000) })
      .execute();
    await db.db
      .insertInto('sessions')
      .values({
        id: session,
        device_id: device,
        source: 'header',
        first_seen: new Date(at),
        last_seen: new Date(at + views * 1000),
        page_views: views,
        ...(user ? { converted_user_id: user, converted_at: new Date(at + 60_000) } : {}),
      })
      .execute();
    await db.db
      .insertInto('page_views')
      .values(
        // Event ids minted when the page view happened (the table's partition time, `id_time`).
        Array.from({ length: views }, (_, i) => ({
          event_id: uuidv7(at + i * 1000),
          device_id: device,
          session_id: session,
          url: `https://shop.test/${label}/${i}`,
          server_ts: new Date(at + i * 1000),
          id_time: new Date(at + i * 1000),
        })),
      )
      .execute();
    if (user) {
      await db.db
        .insertInto('identity_links')
        .values({ id: randomUUID(), device_id: device, user_id: user, linked_at: new Date(at + 60_000) })
        .execute();
    }
    return device;
  }

  it('removes exactly the rows older than the limit', async () => {
    const now = Date.now();
    const old = [
      await seed('old', now - 100 * DAY, 3, 'old-user'),
      await seed('old', now - 41 * DAY, 2, null),
    ];
    const kept = [await seed('new', now - 39 * DAY, 4, 'new-user'), await seed('new', now - DAY, 1, null)];
    await db.db
      .insertInto('dead_letters')
      .values([
        { partition: 0, entry_id: '1-0', error: 'x', record: '{}', failed_at: new Date(now - 50 * DAY) },
        { partition: 0, entry_id: '2-0', error: 'x', record: '{}', failed_at: new Date(now - DAY) },
      ])
      .execute();
    await rebuildRollups(db.db);

    const purge = await startProcess({
      args: [COLLECTOR_SERVER, 'purge'],
      env: { DATABASE_URL: services.env.DATABASE_URL!, RETENTION_DAYS: '40', LOG_LEVEL: 'info' },
      ready: /retention: removed rows older than/,
    });
    expect((await purge.exited).code).toBe(0);
    expect(purge.output()).toMatch(/"pageViews":5/);

    const devices = (await db.db.selectFrom('devices').select('device_id').execute()).map((d) => d.device_id);
    expect(devices.sort()).toEqual([...kept].sort());
    for (const d of old) {
      expect(
        await db.db.selectFrom('page_views').select('event_id').where('device_id', '=', d).execute(),
      ).toEqual([]);
    }
    const left = await db.db.selectFrom('page_views').select('device_id').execute();
    expect(left).toHaveLength(5);
    expect(await db.db.selectFrom('sessions').select('id').execute()).toHaveLength(2);
    expect(await db.db.selectFrom('identity_links').select('user_id').execute()).toEqual([
      { user_id: 'new-user' },
    ]);
    expect(await db.db.selectFrom('dead_letters').select('entry_id').execute()).toEqual([
      { entry_id: '2-0' },
    ]);
    expect(Object.fromEntries(await summedRollups(db.db))).toEqual(
      Object.fromEntries(await recountRollups(db.db)),
    );
  });

  it('refuses to run without RETENTION_DAYS, naming it', async () => {
    const purge = await startProcess({
      args: [COLLECTOR_SERVER, 'purge'],
      env: { DATABASE_URL: services.env.DATABASE_URL! },
      ready: /RETENTION_DAYS/,
    });
    expect((await purge.exited).code).toBe(2);
  });
});
