import {
  createMemoryStore,
  type MemoryStore,
  type PageviewRecord,
  type QueuedPageview,
  type QueueEntry,
} from '@devicelink/fastify';
import { uuidv7 } from '@devicelink/protocol';
import {
  createTestDatabase,
  hasServices,
  startTcpProxy,
  testEnv,
  throughProxy,
  waitFor,
} from '@devicelink/test-env';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { createPersister, type Persister } from '../src/persister.js';

const DAY = 86_400_000;

function pageviews(n: number, url = '/p'): QueuedPageview[] {
  return Array.from({ length: n }, () => ({
    type: 'pageview' as const,
    url,
    referrer: null,
    id: uuidv7(),
    clientTs: Date.now(),
  }));
}

describe.runIf(hasServices('postgres'))('the persister against Postgres', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;
  let stores: MemoryStore;
  let clock: number;
  const persisters: Persister[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('persister');
    db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });
  beforeEach(() => {
    clock = Date.now();
    stores = createMemoryStore({ partitions: 4, now: () => clock });
  });
  afterEach(async () => {
    await Promise.all(persisters.splice(0).map((p) => p.stop()));
    await stores.close();
  });

  // One persister at a time: the previous one gives its partitions back first (a clean stop).
  const newPersister = async () => {
    await Promise.all(persisters.splice(0).map((p) => p.stop()));
    const p = createPersister({ db: db.db, queue: stores, lookbackDays: 30, idleMs: 10 });
    persisters.push(p);
    return p;
  };
  const device = () => `dev-${uuidv7().replace(/-/g, '')}`;
  /** One page view of `deviceId` at the store's clock. */
  const touchOnce = (deviceId: string) =>
    stores.touch({ deviceId, source: 'header', visitorHash: null, userAgent: null, events: pageviews(1) });

  async function sessionsOf(deviceId: string) {
    return db.db
      .selectFrom('sessions')
      .selectAll()
      .where('device_id', '=', deviceId)
      .orderBy('first_seen')
      .execute();
  }

  it('writes page views and their session, then acknowledges them', async () => {
    const d = device();
    await stores.touch({
      deviceId: d,
      source: 'header',
      visitorHash: null,
      userAgent: 'ua',
      events: pageviews(3),
    });
    const p = await newPersister();
    expect(await p.runOnce()).toBeGreaterThan(0);
    const [s] = await sessionsOf(d);
    expect(s).toMatchObject({ device_id: d, page_views: 3, source: 'header', user_agent: 'ua' });
    let depth = 0;
    for (let i = 0; i < stores.partitions; i++) depth += await stores.depth(i);
    expect(depth).toBe(0);
  });

  it('a batch delivered twice is counted once', async () => {
    const d = device();
    await stores.touch({
      deviceId: d,
      source: 'cookie',
      visitorHash: null,
      userAgent: null,
      events: pageviews(4),
    });
    const entries = [];
    for (let i = 0; i < stores.partitions; i++) entries.push(...(await stores.read(i, 'x', 100)));
    const partition = entries[0]!.partition;
    await writePass(db.db, [{ partition: partition, entries: entries }], 30);
    const again = await writePass(db.db, [{ partition: partition, entries: entries }], 30);
    expect(again.pageViewsInserted).toBe(0);
    const [s] = await sessionsOf(d);
    expect(s!.page_views).toBe(4);
  });

  it('a link converts the sessions that started before it, and adds no link when repeated', async () => {
    const d = device();
    await stores.touch({
      deviceId: d,
      source: 'header',
      visitorHash: null,
      userAgent: null,
      events: pageviews(2),
    });
    clock += 1000;
    expect((await stores.convert(d, 'user-a')).status).toBe('linked');
    expect((await stores.convert(d, 'user-a')).status).toBe('unchanged');
    await (await newPersister()).runOnce();
    const [s] = await sessionsOf(d);
    expect(s!.converted_user_id).toBe('user-a');
    const links = await db.db.selectFrom('identity_links').selectAll().where('device_id', '=', d).execute();
    expect(links).toHaveLength(1);
    expect(s!.link_id).toBe(links[0]!.id);
  });

  it('after a logout another user on the same device converts only the sessions since', async () => {
    const d = device();
    const touch = () => touchOnce(d);
    await touch();
    clock += 1000;
    await stores.convert(d, 'alice');
    clock += 1000;
    await touch(); // after logout: a new anonymous session
    clock += 1000;
    await stores.convert(d, 'bob');
    await (await newPersister()).runOnce();
    const sessions = await sessionsOf(d);
    expect(sessions.map((s) => s.converted_user_id)).toEqual(['alice', 'bob']);
  });

  it('a session begun in the millisecond of the previous login is converted by the next login, not that one', async () => {
    const d = device();
    const touch = () => touchOnce(d);
    await touch();
    clock += 1000;
    await stores.convert(d, 'alice'); // ends the first session
    await touch(); // same millisecond: a new session (alice logs out right after)
    clock += 1000;
    await stores.convert(d, 'bob');
    await (await newPersister()).runOnce();
    const sessions = await sessionsOf(d);
    expect(sessions.map((s) => s.converted_user_id)).toEqual(['alice', 'bob']);
  });

  it('a login in the millisecond of the session first page view still converts the session it ended', async () => {
    const d = device();
    await touchOnce(d);
    expect((await stores.convert(d, 'carol')).status).toBe('linked');
    await (await newPersister()).runOnce();
    const [s] = await sessionsOf(d);
    expect(s!.converted_user_id).toBe('carol');
  });

  it('a link persisted before its session page views still converts that session', async () => {
    const d = device();
    await stores.touch({
      deviceId: d,
      source: 'header',
      visitorHash: null,
      userAgent: null,
      events: pageviews(2),
    });
    clock += 1000;
    await stores.convert(d, 'late-user');
    const entries = [];
    for (let i = 0; i < stores.partitions; i++) entries.push(...(await stores.read(i, 'x', 100)));
    const links = entries.filter((e) => e.record.kind === 'link');
    const views = entries.filter((e) => e.record.kind === 'pageview');
    await writePass(db.db, [{ partition: links[0]!.partition, entries: links }], 30);
    await writePass(db.db, [{ partition: views[0]!.partition, entries: views }], 30);
    const [s] = await sessionsOf(d);
    expect(s!.converted_user_id).toBe('late-user');
  });

  it('a link older sessions than the lookback never converts them', async () => {
    const d = device();
    await stores.touch({
      deviceId: d,
      source: 'header',
      visitorHash: null,
      userAgent: null,
      events: pageviews(1),
    });
    clock += 31 * DAY;
    await stores.convert(d, 'too-late');
    await (await newPersister()).runOnce();
    const [s] = await sessionsOf(d);
    expect(s!.converted_user_id).toBeNull();
  });

  it('an erase record removes everything persisted for the device', async () => {
    const d = device();
    await stores.touch({
      deviceId: d,
      source: 'header',
      visitorHash: null,
      userAgent: null,
      events: pageviews(2),
    });
    await stores.convert(d, 'someone');
    await (await newPersister()).runOnce();
    await stores.erase(d);
    await (await newPersister()).runOnce();
    expect(await sessionsOf(d)).toEqual([]);
    const views = await db.db
      .selectFrom('page_views')
      .select('event_id')
      .where('device_id', '=', d)
      .execute();
    expect(views).toEqual([]);
  });

  it('one pass writes what every partition holds in one transaction and acknowledges all of it', async () => {
    const devices = Array.from({ length: 12 }, device);
    for (const d of devices) {
      await stores.touch({
        deviceId: d,
        source: 'header',
        visitorHash: null,
        userAgent: null,
        events: pageviews(2),
      });
    }
    const p = await newPersister();
    let passes = 0;
    const counting = createPersister({
      db: db.db,
      queue: stores,
      lookbackDays: 30,
      onBatch: () => passes++,
    });
    persisters.push(counting);
    expect(await counting.runOnce()).toBe(24);
    expect(passes).toBe(1);
    for (const d of devices) expect((await sessionsOf(d))[0]?.page_views).toBe(2);
    let depth = 0;
    for (let i = 0; i < stores.partitions; i++) depth += await stores.depth(i);
    expect(depth).toBe(0);
    expect(await p.runOnce()).toBe(0);
  });

  it('a pass over several partitions keeps the order of each around an erase: the rows of the device go, and one queued after the erase stays out (Postgres tombstone)', async () => {
    const [d, other] = [device(), device()];
    const touch = (id: string, url: string) =>
      stores.touch({
        deviceId: id,
        source: 'header',
        visitorHash: null,
        userAgent: null,
        events: pageviews(2, url),
      });
    await touch(d, '/before');
    await touch(other, '/other');
    await stores.erase(d);
    const read: QueueEntry[] = [];
    for (let i = 0; i < stores.partitions; i++) read.push(...(await stores.read(i, 'x', 100)));
    // The Redis tombstone refuses new page views, so a later one is made up here: the Postgres tombstone
    // must keep it out too (a reclaimed entry can arrive after the erase).
    const before = read.find((e) => e.record.kind === 'pageview' && e.record.deviceId === d)!;
    const after: QueueEntry = {
      ...before,
      id: `${before.id}-after`,
      record: { ...(before.record as PageviewRecord), eventId: uuidv7(), url: '/after' },
    };
    const byPartition = new Map<number, QueueEntry[]>();
    for (const e of [...read, after])
      byPartition.set(e.partition, [...(byPartition.get(e.partition) ?? []), e]);
    const result = await writePass(
      db.db,
      [...byPartition].map(([partition, entries]) => ({ partition, entries })),
      30,
    );
    expect(result.erased).toBe(1);
    const urls = async (id: string) =>
      (await db.db.selectFrom('page_views').select('url').where('device_id', '=', id).execute()).map(
        (r) => r.url,
      );
    expect(await urls(d)).toEqual([]);
    expect(await urls(other)).toEqual(['/other', '/other']);
  });

  it('keeps retrying while Postgres is unreachable, reports it down, and lands every event once', async () => {
    const target = new URL(testEnv.databaseUrl!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const proxied = await createDb({ databaseUrl: throughProxy(database.url, proxy), dataDir: '/x' });
    try {
      proxy.cut();
      const d = device();
      await stores.touch({
        deviceId: d,
        source: 'header',
        visitorHash: null,
        userAgent: null,
        events: pageviews(5),
      });
      const p = createPersister({
        db: proxied.db,
        queue: stores,
        lookbackDays: 30,
        idleMs: 10,
        maxBackoffMs: 200,
      });
      persisters.push(p);
      p.start();
      await waitFor(() => !p.status().postgresUp, { what: 'postgres reported down' });
      expect(p.status().lagMs).toBeGreaterThanOrEqual(0);
      proxy.restore();
      await waitFor(async () => (await sessionsOf(d))[0]?.page_views === 5, { what: '5 page views' });
      await waitFor(() => p.status().postgresUp, { what: 'postgres reported up' });
      const views = await db.db
        .selectFrom('page_views')
        .select('event_id')
        .where('device_id', '=', d)
        .execute();
      expect(views).toHaveLength(5);
    } finally {
      await Promise.all(persisters.splice(0).map((p) => p.stop()));
      await proxied.close();
      await proxy.close();
    }
  });
});
