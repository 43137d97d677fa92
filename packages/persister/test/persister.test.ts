import type { QueuedPageview } from '@devicelink/fastify';
import { type PageviewRecord, type QueueEntry, uuidv7 } from '@devicelink/protocol';
import { hasServices, startTcpProxy, testEnv, throughProxy, waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb } from '../src/create-db.js';
import { createPersister } from '../src/persister.js';
import { usePersisterHarness } from './persister-harness.js';

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
  const h = usePersisterHarness('persister', 4);
  const device = () => `dev-${uuidv7().replace(/-/g, '')}`;
  /** `n` page views of `deviceId` at the store's clock (from a header id, no user agent unless said). */
  const touch = (
    deviceId: string,
    n: number,
    options: { source?: 'header' | 'cookie'; userAgent?: string; url?: string } = {},
  ) =>
    h.stores.touch({
      deviceId,
      source: options.source ?? 'header',
      visitorHash: null,
      userAgent: options.userAgent ?? null,
      events: pageviews(n, options.url),
    });

  it('writes page views and their session, then acknowledges them', async () => {
    const d = device();
    await touch(d, 3, { userAgent: 'ua' });
    const p = await h.newPersister();
    expect(await p.runOnce()).toBeGreaterThan(0);
    const [s] = await h.sessionsOf(d);
    expect(s).toMatchObject({ device_id: d, page_views: 3, source: 'header', user_agent: 'ua' });
    expect(await h.depth()).toBe(0);
  });

  it('a batch delivered twice is counted once', async () => {
    const d = device();
    await touch(d, 4, { source: 'cookie' });
    const entries = await h.readAll();
    const partition = entries[0]!.partition;
    await writePass(h.db.db, [{ partition: partition, entries: entries }], 30);
    const again = await writePass(h.db.db, [{ partition: partition, entries: entries }], 30);
    expect(again.pageViewsInserted).toBe(0);
    const [s] = await h.sessionsOf(d);
    expect(s!.page_views).toBe(4);
  });

  it('a link converts the sessions that started before it, and adds no link when repeated', async () => {
    const d = device();
    await touch(d, 2);
    h.clock += 1000;
    expect((await h.stores.convert(d, 'user-a')).status).toBe('linked');
    expect((await h.stores.convert(d, 'user-a')).status).toBe('unchanged');
    await (await h.newPersister()).runOnce();
    const [s] = await h.sessionsOf(d);
    expect(s!.converted_user_id).toBe('user-a');
    const links = await h.db.db.selectFrom('identity_links').selectAll().where('device_id', '=', d).execute();
    expect(links).toHaveLength(1);
    expect(s!.link_id).toBe(links[0]!.id);
  });

  it('after a logout another user on the same device converts only the sessions since', async () => {
    const d = device();
    await touch(d, 1);
    h.clock += 1000;
    await h.stores.convert(d, 'alice');
    h.clock += 1000;
    await touch(d, 1); // after logout: a new anonymous session
    h.clock += 1000;
    await h.stores.convert(d, 'bob');
    await (await h.newPersister()).runOnce();
    const sessions = await h.sessionsOf(d);
    expect(sessions.map((s) => s.converted_user_id)).toEqual(['alice', 'bob']);
  });

  it('a session begun in the millisecond of the previous login is converted by the next login, not that one', async () => {
    const d = device();
    await touch(d, 1);
    h.clock += 1000;
    await h.stores.convert(d, 'alice'); // ends the first session
    await touch(d, 1); // same millisecond: a new session (alice logs out right after)
    h.clock += 1000;
    await h.stores.convert(d, 'bob');
    await (await h.newPersister()).runOnce();
    const sessions = await h.sessionsOf(d);
    expect(sessions.map((s) => s.converted_user_id)).toEqual(['alice', 'bob']);
  });

  it('a login in the millisecond of the session first page view still converts the session it ended', async () => {
    const d = device();
    await touch(d, 1);
    expect((await h.stores.convert(d, 'carol')).status).toBe('linked');
    await (await h.newPersister()).runOnce();
    const [s] = await h.sessionsOf(d);
    expect(s!.converted_user_id).toBe('carol');
  });

  it('a link persisted before its session page views still converts that session', async () => {
    const d = device();
    await touch(d, 2);
    h.clock += 1000;
    await h.stores.convert(d, 'late-user');
    const entries = await h.readAll();
    const links = entries.filter((e) => e.record.kind === 'link');
    const views = entries.filter((e) => e.record.kind === 'pageview');
    await writePass(h.db.db, [{ partition: links[0]!.partition, entries: links }], 30);
    await writePass(h.db.db, [{ partition: views[0]!.partition, entries: views }], 30);
    const [s] = await h.sessionsOf(d);
    expect(s!.converted_user_id).toBe('late-user');
  });

  it('a link older sessions than the lookback never converts them', async () => {
    const d = device();
    await touch(d, 1);
    h.clock += 31 * DAY;
    await h.stores.convert(d, 'too-late');
    await (await h.newPersister()).runOnce();
    const [s] = await h.sessionsOf(d);
    expect(s!.converted_user_id).toBeNull();
  });

  it('an erase record removes everything persisted for the device', async () => {
    const d = device();
    await touch(d, 2);
    await h.stores.convert(d, 'someone');
    await (await h.newPersister()).runOnce();
    await h.stores.erase(d);
    await (await h.newPersister()).runOnce();
    expect(await h.sessionsOf(d)).toEqual([]);
    const views = await h.pageViewsOf(d);
    expect(views).toEqual([]);
  });

  it('one pass writes what every partition holds in one transaction and acknowledges all of it', async () => {
    const devices = Array.from({ length: 12 }, device);
    for (const d of devices) {
      await touch(d, 2);
    }
    const p = await h.newPersister();
    let passes = 0;
    const counting = createPersister({
      db: h.db.db,
      queue: h.stores,
      lookbackDays: 30,
      onBatch: () => passes++,
    });
    h.persisters.push(counting);
    expect(await counting.runOnce()).toBe(24);
    expect(passes).toBe(1);
    for (const d of devices) expect((await h.sessionsOf(d))[0]?.page_views).toBe(2);
    expect(await h.depth()).toBe(0);
    expect(await p.runOnce()).toBe(0);
  });

  it('a pass over several partitions keeps the order of each around an erase: the rows of the device go, and one queued after the erase stays out (Postgres tombstone)', async () => {
    const [d, other] = [device(), device()];
    await touch(d, 2, { url: '/before' });
    await touch(other, 2, { url: '/other' });
    await h.stores.erase(d);
    const read = await h.readAll();
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
      h.db.db,
      [...byPartition].map(([partition, entries]) => ({ partition, entries })),
      30,
    );
    expect(result.erased).toBe(1);
    const urls = async (id: string) =>
      (await h.db.db.selectFrom('page_views').select('url').where('device_id', '=', id).execute()).map(
        (r) => r.url,
      );
    expect(await urls(d)).toEqual([]);
    expect(await urls(other)).toEqual(['/other', '/other']);
  });

  it('keeps retrying while Postgres is unreachable, reports it down, and lands every event once', async () => {
    const target = new URL(testEnv.databaseUrl!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const proxied = await createDb({ databaseUrl: throughProxy(h.database.url, proxy), dataDir: '/x' });
    try {
      proxy.cut();
      const d = device();
      await touch(d, 5);
      const p = createPersister({
        db: proxied.db,
        queue: h.stores,
        lookbackDays: 30,
        idleMs: 10,
        maxBackoffMs: 200,
      });
      h.persisters.push(p);
      p.start();
      await waitFor(() => !p.status().postgresUp, { what: 'postgres reported down' });
      expect(p.status().lagMs).toBeGreaterThanOrEqual(0);
      proxy.restore();
      await waitFor(async () => (await h.sessionsOf(d))[0]?.page_views === 5, { what: '5 page views' });
      await waitFor(() => p.status().postgresUp, { what: 'postgres reported up' });
      const views = await h.pageViewsOf(d);
      expect(views).toHaveLength(5);
    } finally {
      await Promise.all(h.persisters.splice(0).map((p) => p.stop()));
      await proxied.close();
      await proxy.close();
    }
  });
});
