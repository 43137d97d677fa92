import { createDb, type PersisterDb } from '@devicelink/persister';
import { type PageviewRecord, uuidv7 } from '@devicelink/protocol';
import { hasServices, waitFor } from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deviceId, useCollector } from './support/collector.js';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe.runIf(hasServices('postgres'))('dead letters through the admin routes', () => {
  const ctx = useCollector('deadletters', { ADMIN_TOKEN });
  let db: PersisterDb;
  beforeAll(async () => {
    db = await createDb({ databaseUrl: ctx.services!.database!.url, dataDir: '/nonexistent' });
  });
  afterAll(() => db?.close());

  const list = (query = '') => ctx.app.inject({ url: `/v1/admin/dead-letters${query}`, headers: auth });
  const replay = (body: unknown = {}) =>
    ctx.app.inject({
      method: 'POST',
      url: '/v1/admin/dead-letters/replay',
      headers: auth,
      payload: body as object,
    });
  const rowsOf = async (eventId: string) =>
    db.db.selectFrom('page_views').select('url').where('event_id', '=', eventId).execute();

  async function deadLetter(entryId: string, record: PageviewRecord, error = 'some data error') {
    await db.db
      .insertInto('dead_letters')
      .values({
        partition: 3,
        entry_id: entryId,
        error,
        record: JSON.stringify(record),
        failed_at: new Date(),
      })
      .execute();
  }

  it('refuses both routes without the admin token', async () => {
    expect((await ctx.app.inject({ url: '/v1/admin/dead-letters' })).statusCode).toBe(401);
    expect(
      (await ctx.app.inject({ method: 'POST', url: '/v1/admin/dead-letters/replay', payload: {} }))
        .statusCode,
    ).toBe(401);
  });

  it('answers 400 for a limit past the double range, in the query or the body, never a database error', async () => {
    for (const query of ['?limit=1e309', '?limit=-1e309', '?limit=Infinity']) {
      const res = await list(query);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'DL_INVALID_QUERY' });
      expect(res.body).not.toMatch(/postgres|syntax|invalid input|relation|column/i);
    }
    const body = await ctx.app.inject({
      method: 'POST',
      url: '/v1/admin/dead-letters/replay',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"limit":1e309}',
    });
    expect(body.statusCode).toBe(400);
    expect(body.json().code).toMatch(/^DL_INVALID_/);
  });

  it('lists dead letters with their reason, page by page, and replays them once by event id', async () => {
    const d = deviceId();
    const landedId = uuidv7();
    const posted = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': d },
      payload: { events: [{ type: 'pageview', url: '/landed', id: landedId }] },
    });
    expect(posted.statusCode).toBe(202);
    const sessionId = posted.json().sessionId as string;
    await waitFor(async () => (await rowsOf(landedId)).length === 1, { what: 'the landed page view' });

    const record = (eventId: string, url: string): PageviewRecord => ({
      kind: 'pageview',
      eventId,
      deviceId: d,
      userId: null,
      sessionId,
      source: 'header',
      visitorHash: null,
      userAgent: null,
      url,
      referrer: null,
      clientTs: null,
      serverTs: Date.now(),
    });
    const fixedId = uuidv7();
    // Refused back then (its cause since fixed), never landed.
    await deadLetter('1-0', record(fixedId, '/fixed'), 'value too long for type character varying(8)');
    // The landed page view, dead-lettered by a delivery that failed: replaying it must not double it.
    await deadLetter('2-0', record(landedId, '/landed'));
    // Still refused: Postgres text cannot hold a NUL.
    await deadLetter('3-0', record(uuidv7(), '/nul\u0000'));

    const first = await list('?limit=2');
    expect(first.statusCode).toBe(200);
    expect(first.json().deadLetters).toHaveLength(2);
    expect(first.json().deadLetters[0]).toMatchObject({
      partition: 3,
      entryId: '1-0',
      error: 'value too long for type character varying(8)',
      failedAt: expect.any(String),
      record: { kind: 'pageview', eventId: fixedId, url: '/fixed' },
    });
    expect(first.json().next).toBe('3:2-0');
    const second = await list(`?limit=2&after=${encodeURIComponent(first.json().next)}`);
    expect(second.json().deadLetters.map((x: { entryId: string }) => x.entryId)).toEqual(['3-0']);
    expect(second.json().next).toBeNull();

    const replayed = await replay();
    expect(replayed.statusCode).toBe(200);
    expect(replayed.json().replayed).toEqual([
      { partition: 3, entryId: '1-0' },
      { partition: 3, entryId: '2-0' },
    ]);
    expect(replayed.json().failed).toEqual([
      { partition: 3, entryId: '3-0', error: expect.stringContaining('0x00') },
    ]);
    expect(replayed.json().remaining).toBe(1);
    expect(await rowsOf(fixedId)).toEqual([{ url: '/fixed' }]);
    expect(await rowsOf(landedId)).toEqual([{ url: '/landed' }]);
    const session = await db.db
      .selectFrom('sessions')
      .select('page_views')
      .where('id', '=', sessionId)
      .execute();
    expect(session).toEqual([{ page_views: 2 }]);

    // The fixed one replayed again by name (it came back, say, from a backup): still one row.
    await deadLetter('1-0', record(fixedId, '/fixed'));
    const again = await replay({ entries: [{ partition: 3, entryId: '1-0' }] });
    expect(again.json()).toMatchObject({
      replayed: [{ partition: 3, entryId: '1-0' }],
      failed: [],
      remaining: 1,
    });
    expect(await rowsOf(fixedId)).toHaveLength(1);
    expect((await list()).json().deadLetters.map((x: { entryId: string }) => x.entryId)).toEqual(['3-0']);
  });

  it('refuses a malformed cursor with 400', async () => {
    expect((await list('?after=nope')).statusCode).toBe(400);
  });

  it('answers 400, never 503, for a reference no dead letter can have (found by the fuzz run)', async () => {
    // Each was a 503 "database unavailable": Postgres refused a NUL in text and an integer overflow.
    for (const ref of [
      { partition: 2147483648, entryId: '1-0' },
      { partition: 1.7976931348623157e308, entryId: '1-0' },
      { partition: 16384, entryId: '1-0' },
      { partition: 3, entryId: '\u0000aaa' },
      { partition: 3, entryId: 'constructor' },
      { partition: 3, entryId: '1-0\u0000' },
    ]) {
      const res = await replay({ entries: [ref] });
      expect(res.statusCode, JSON.stringify(ref)).toBe(400);
      expect(res.json().code).toMatch(/^DL_INVALID_/);
    }
    for (const after of ['3:%00', '3:1-0%00', '99999999:1-0', '3:%ED%A0%80']) {
      const res = await list(`?after=${after}`);
      expect(res.statusCode, after).toBe(400);
    }
    // Well-formed and absent: nothing replayed, nothing listed.
    const none = await replay({ entries: [{ partition: 16383, entryId: '99999999999999999999-0' }] });
    expect(none.statusCode).toBe(200);
    expect(none.json()).toMatchObject({ replayed: [], failed: [] });
    expect((await list('?after=16383:1-0')).statusCode).toBe(200);
  });
});
