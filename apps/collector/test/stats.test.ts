import { randomUUID } from 'node:crypto';
import { createDb, migrate, type PersisterDb } from '@devicelink/persister';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, collector, tempDataDir } from './support/collector.js';

const at = (iso: string) => new Date(iso);

/**
 * The hand-worked data set. Window 2026-01-10 (UTC day):
 * - s1 10:00, converted 10:05 (300 s); page views 10:00, 10:01, 10:02 before, 10:06 after: 3 before;
 * - s2 12:00, converted 12:01:40 (100 s); one page view: 1 before;
 * - s3 13:00, converted 13:10 (600 s); five page views before: 5;
 * - s4 15:00 and s5 16:00, not converted;
 * - outside: s6 on 2026-01-09T23:59:59.999Z (converted), s7 at 2026-01-11T00:00:00Z (to is exclusive).
 * Whole day: started 5, converted 3, rate 0.6, median page views 3 (of 1, 3, 5), median seconds 300
 * (of 100, 300, 600). From 12:00: started 4, converted 2, rate 0.5, medians (1+5)/2 = 3 and
 * (100+600)/2 = 350.
 *
 * Edges (resolved when read): 0001 met the cookie of 0000 (cookie edge); 0003 is joined to 0002 by a
 * standing fingerprint join; 0004's join to 0000 was revoked. Whole day: devices 5, browsers by cookie
 * 4 ({0,1} {2} {3} {4}), browsers 3 ({0,1} {2,3} {4}). From 12:00: devices 4 (1 to 4; 0001 still
 * reaches 0000 outside the window), browsers by cookie 4, browsers 3.
 */
const SESSIONS: Array<{ first: string; converted?: string; views: string[] }> = [
  {
    first: '2026-01-10T10:00:00Z',
    converted: '2026-01-10T10:05:00Z',
    views: ['10:00', '10:01', '10:02', '10:06'],
  },
  { first: '2026-01-10T12:00:00Z', converted: '2026-01-10T12:01:40Z', views: ['12:00'] },
  {
    first: '2026-01-10T13:00:00Z',
    converted: '2026-01-10T13:10:00Z',
    views: ['13:00', '13:01', '13:02', '13:03', '13:04'],
  },
  { first: '2026-01-10T15:00:00Z', views: ['15:00', '15:01'] },
  { first: '2026-01-10T16:00:00Z', views: ['16:00'] },
  { first: '2026-01-09T23:59:59.999Z', converted: '2026-01-10T00:10:00Z', views: [] },
  { first: '2026-01-11T00:00:00Z', converted: '2026-01-11T00:01:00Z', views: [] },
];

describe.runIf(hasServices('postgres'))('GET /v1/admin/stats', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;
  let app: FastifyInstance;
  const dataDir = tempDataDir();

  beforeAll(async () => {
    database = await createTestDatabase('stats');
    db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
    await migrate(db.db);
    for (const [i, s] of SESSIONS.entries()) {
      const id = randomUUID();
      const device = `stats-device-${String(i).padStart(4, '0')}`;
      const day = s.first.slice(0, 10);
      await db.db
        .insertInto('sessions')
        .values({
          id,
          device_id: device,
          source: 'header',
          first_seen: at(s.first),
          last_seen: at(s.first),
          page_views: s.views.length,
          converted_user_id: s.converted ? `user-${i}` : null,
          converted_at: s.converted ? at(s.converted) : null,
          link_id: s.converted ? randomUUID() : null,
        })
        .execute();
      await db.db
        .insertInto('devices')
        .values({ device_id: device, first_seen: at(s.first), last_seen: at(s.first) })
        .execute();
      for (const v of s.views) {
        await db.db
          .insertInto('page_views')
          .values({
            event_id: randomUUID(),
            device_id: device,
            session_id: id,
            url: 'https://shop.test/',
            server_ts: at(`${day}T${v}:00Z`),
            id_time: new Date(0), // a random (v4) id has no time
          })
          .execute();
      }
    }
    const dev = (i: number) => `stats-device-${String(i).padStart(4, '0')}`;
    const t = at('2026-01-10T17:00:00Z');
    await db.db
      .insertInto('device_edges')
      .values([
        { device_id: dev(1), other_id: dev(0), kind: 'cookie', first_seen: t },
        { device_id: dev(3), other_id: dev(2), kind: 'join', first_seen: t },
        { device_id: dev(4), other_id: dev(0), kind: 'join', first_seen: t },
      ])
      .execute();
    await db.db
      .insertInto('fingerprint_revocations')
      .values({ device_id: dev(0), revoked_until: at('2026-01-10T18:00:00Z') })
      .execute();
    app = await collector({ DATABASE_URL: database.url, DATA_DIR: dataDir.dir, ADMIN_TOKEN });
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
    await database?.drop();
    dataDir.remove();
  });

  const stats = (query: string, token = ADMIN_TOKEN) =>
    app.inject({ url: `/v1/admin/stats?${query}`, headers: { authorization: `Bearer ${token}` } });

  it('answers the hand-worked figures for a whole UTC day, bounds [from, to)', async () => {
    const res = await stats('from=2026-01-10&to=2026-01-11');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      from: '2026-01-10T00:00:00.000Z',
      to: '2026-01-11T00:00:00.000Z',
      sessionsStarted: 5,
      convertedSessions: 3,
      conversionRate: 0.6,
      medianPageViewsBeforeConversion: 3,
      medianSecondsToConversion: 300,
      devices: 5,
      browsers: 3,
      browsersByCookie: 4,
    });
  });

  it('the device detail resolves its browser to the earliest id, marking ids reached by a join inferred', async () => {
    const res = await app.inject({
      url: '/v1/admin/devices/stats-device-0003',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.json().browser).toEqual({
      canonicalId: 'stats-device-0002',
      devices: [
        { deviceId: 'stats-device-0002', inferred: true, firstSeen: '2026-01-10T13:00:00.000Z' },
        { deviceId: 'stats-device-0003', inferred: false, firstSeen: '2026-01-10T15:00:00.000Z' },
      ],
    });
    // A revoked join is not followed; the cookie edge is, and is proof (not inferred).
    const revoked = await app.inject({
      url: '/v1/admin/devices/stats-device-0004',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(revoked.json().browser.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'stats-device-0004',
    ]);
    const cookie = await app.inject({
      url: '/v1/admin/devices/stats-device-0001',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(cookie.json().browser).toMatchObject({
      canonicalId: 'stats-device-0000',
      devices: [{ inferred: false }, { inferred: false }],
    });
  });

  it('takes the mean of the two middle values for an even number of converted sessions', async () => {
    const res = await stats('from=2026-01-10T12:00:00Z&to=2026-01-11T00:00:00.000Z');
    expect(res.json()).toMatchObject({
      sessionsStarted: 4,
      convertedSessions: 2,
      conversionRate: 0.5,
      medianPageViewsBeforeConversion: 3,
      medianSecondsToConversion: 350,
      devices: 4,
      browsers: 3,
      browsersByCookie: 4,
    });
  });

  it('answers null rate and medians for a window without sessions', async () => {
    const res = await stats('from=2025-01-01&to=2025-02-01');
    expect(res.json()).toMatchObject({
      sessionsStarted: 0,
      convertedSessions: 0,
      conversionRate: null,
      medianPageViewsBeforeConversion: null,
      medianSecondsToConversion: null,
    });
  });

  it('refuses missing, malformed, non-UTC and inverted bounds with 400 DL_INVALID_STATS_RANGE', async () => {
    for (const q of [
      '',
      'from=2026-01-10',
      'to=2026-01-10',
      'from=yesterday&to=2026-01-10',
      'from=2026-01-10T00:00:00+02:00&to=2026-01-11',
      'from=2026-02-30&to=2026-03-01',
      'from=2026-01-11&to=2026-01-10',
      'from=2026-01-10&to=2026-01-10',
    ]) {
      const res = await stats(q);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().code, q).toMatch(/^DL_/);
    }
  });

  it('needs the admin token', async () => {
    const res = await stats('from=2026-01-10&to=2026-01-11', 'x'.repeat(40));
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('DL_ADMIN_UNAUTHORIZED');
  });
});

// The EXPLAIN checks on 1,000,000 page views run in the bench (bench/src/stats-plan.ts, `npm run bench`).
