/**
 * Conversion over the ids of one browser (docs/protocol.md, Conversion): a link converts the sessions
 * of the ids tied to its device by cookie and yield edges, never over a fingerprint join and never
 * across a boundary (a replacement after a reset), in any order of arrival.
 */
import type { EdgeKind, QueueRecord } from '@devicelink/protocol';
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { device, entries, link, pageview } from './queue-records.js';

describe.runIf(hasServices('postgres'))('conversion over the ids of one browser', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;
  beforeAll(async () => {
    database = await createTestDatabase('persister_tied');
    db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  /** Each record group is one pass, in order. */
  const passes = async (...groups: QueueRecord[][]) => {
    for (const g of groups) await writePass(db.db, [entries(0, ...g)], 30);
  };
  const convertedTo = async (id: string) =>
    (
      await db.db
        .selectFrom('sessions')
        .select('converted_user_id')
        .where('device_id', '=', id)
        .orderBy('first_seen')
        .execute()
    ).map((s) => s.converted_user_id);
  const edge = (kind: EdgeKind, deviceId: string, otherId: string, ts: number): QueueRecord => ({
    kind: 'edge',
    edge: kind,
    deviceId,
    otherId,
    ts,
  });
  /** Two ids' pre-login sessions at `t`, and a login on the first at `t + 1000`. */
  const browser = (t: number) => {
    const [a, b] = [device(), device()];
    const views = [pageview(a, uuidv7(t), t), pageview(b, uuidv7(t), t)];
    return { a, b, views, login: link(a, 'user-1', t + 1000) };
  };

  it('two ids tied by a yield edge: a login on one converts both ids pre-login sessions', async () => {
    const t = Date.now() - 60_000;
    const { a, b, views, login } = browser(t);
    // The second tab's fresh id b yielded to the cookie a.
    await passes([...views, edge('yield', a, b, t + 10), login]);
    expect(await convertedTo(a)).toEqual(['user-1']);
    expect(await convertedTo(b)).toEqual(['user-1']);
  });

  it('a login on the other id, and a cookie edge written after the login, convert all the same', async () => {
    const t = Date.now() - 60_000;
    const { a, b, views } = browser(t);
    await passes(views, [link(b, 'user-2', t + 1000)], [edge('cookie', b, a, t + 2000)]);
    expect(await convertedTo(a)).toEqual(['user-2']);
    expect(await convertedTo(b)).toEqual(['user-2']);
  });

  it('a fingerprint join edge does not convert', async () => {
    const t = Date.now() - 60_000;
    const { a, b, views, login } = browser(t);
    await passes([...views, edge('join', b, a, t + 10), login]);
    expect(await convertedTo(a)).toEqual(['user-1']);
    expect(await convertedTo(b)).toEqual([null]);
  });

  it('a boundary between the two ids blocks it, written before or after the conversion', async () => {
    const t = Date.now() - 60_000;
    const first = browser(t);
    const boundary = (x: { a: string; b: string }): QueueRecord => ({
      kind: 'boundary',
      deviceId: x.b,
      otherId: x.a,
      ts: t + 20,
    });
    await passes([...first.views, edge('cookie', first.b, first.a, t + 10), boundary(first), first.login]);
    expect(await convertedTo(first.b)).toEqual([null]);

    const late = browser(t);
    await passes([...late.views, edge('cookie', late.b, late.a, t + 10), late.login]);
    expect(await convertedTo(late.b)).toEqual(['user-1']);
    await passes([boundary(late)]);
    expect(await convertedTo(late.b)).toEqual([null]);
    expect(await convertedTo(late.a)).toEqual(['user-1']);
  });

  it('erasing either id deletes its boundaries', async () => {
    const [a, b] = [device(), device()];
    await passes([{ kind: 'boundary', deviceId: b, otherId: a, ts: Date.now() }]);
    const count = async () =>
      (await db.db.selectFrom('device_boundaries').selectAll().where('other_id', '=', a).execute()).length;
    expect(await count()).toBe(1);
    await passes([{ kind: 'erase', deviceId: a, ts: Date.now() }]);
    expect(await count()).toBe(0);
  });
});
