import { randomBytes } from 'node:crypto';
import { hasServices, type TestServices, waitFor } from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import type { FastifyInstance } from 'fastify';
import { ADMIN_TOKEN, collector, deviceId, eventsBody } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';
import { countRows, serviceEnv, storedKeys } from './support/service-env.js';

const SECRET = 'erasure-test-secret-that-is-long-enough';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const userId = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

describe.runIf(hasServices('redis', 'postgres'))('erasure on Redis and Postgres', () => {
  function environment(services: TestServices, cleanup: (fn: () => unknown) => void) {
    const client = services.database!.client;
    const env = serviceEnv(services, { JWT_SECRET: SECRET, QUEUE_PARTITIONS: '8' });
    const start = async (extra: Record<string, string> = {}) => {
      const app = await collector({ ...env, ...extra });
      cleanup(() => app.close());
      return app;
    };
    /** Every key of the test's prefix with its value (strings) or type. */
    const keys = async () =>
      (await storedKeys(services.redis!, services.prefix)).map((k) => ({
        key: k.key,
        value: k.type === 'string' ? String(k.content ?? '') : k.type,
      }));
    const count = (query: string, params: unknown[]) => countRows(client, query, params);
    return { env, client, start, keys, count };
  }

  const token = (sub: string) => signJwt('HS256', claims({ sub }), SECRET);
  const send = (app: FastifyInstance, device: string, n = 1) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': device },
      payload: eventsBody(n),
    });
  const sendAsUser = (app: FastifyInstance, user: string, n = 1) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${token(user)}` },
      payload: eventsBody(n),
    });
  const identify = (app: FastifyInstance, user: string, device: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: { authorization: `Bearer ${token(user)}`, 'x-device-fingerprint': device },
    });
  const drained = async (app: FastifyInstance) => {
    const { store: queue } = app.collector.resources;
    for (let p = 0; p < queue.partitions; p++) if ((await queue.depth(p)) > 0) return false;
    return true;
  };

  test('erasing a user removes its links, converted sessions, own page views and unshared devices from Postgres and Redis, and keeps the other user of a shared device', async ({
    services,
    cleanup,
  }) => {
    const e = environment(services, cleanup);
    const app = await e.start();
    const [gone, kept] = [userId('gone'), userId('kept')];
    const [own, shared] = [deviceId(), deviceId()];

    await send(app, own, 2);
    expect((await identify(app, gone, own)).json().sessionId).toBeTruthy();
    await send(app, own, 1);
    await send(app, shared, 2);
    await identify(app, gone, shared);
    await send(app, shared, 3);
    await identify(app, kept, shared);
    await send(app, shared, 1);
    expect((await sendAsUser(app, gone, 2)).json()).toMatchObject({ accepted: 2, userId: gone });
    await sendAsUser(app, kept, 1);
    await waitFor(
      async () =>
        (await e.count('select 1 from page_views', [])) === 12 &&
        (await e.count('select 1 from sessions where converted_user_id is not null', [])) === 3,
      { what: 'everything persisted and converted' },
    );

    const res = await app.inject({ method: 'DELETE', url: `/v1/admin/users/${gone}`, headers: admin });
    expect(res.statusCode).toBe(204);
    await waitFor(
      async () =>
        (await drained(app)) && (await e.count('select 1 from devices where device_id = $1', [own])) === 0,
      {
        what: 'erasure persisted',
      },
    );

    // Postgres: nothing of the erased user, nothing of its own device.
    expect(await e.count('select 1 from identity_links where user_id = $1', [gone])).toBe(0);
    expect(await e.count('select 1 from sessions where converted_user_id = $1', [gone])).toBe(0);
    expect(await e.count('select 1 from page_views where user_id = $1', [gone])).toBe(0);
    for (const table of ['sessions', 'page_views', 'identity_links', 'devices']) {
      expect(await e.count(`select 1 from ${table} where device_id = $1`, [own]), table).toBe(0);
    }
    // The shared device keeps the other user's data and its anonymous session.
    expect(
      await e.count('select 1 from identity_links where user_id = $1 and device_id = $2', [kept, shared]),
    ).toBe(1);
    const keptSessions = await e.client.query(
      'select converted_user_id, page_views from sessions where device_id = $1 order by first_seen',
      [shared],
    );
    expect(keptSessions.rows).toEqual([
      { converted_user_id: kept, page_views: 3 },
      { converted_user_id: null, page_views: 1 },
    ]);
    expect(await e.count('select 1 from page_views where device_id = $1', [shared])).toBe(4);
    expect(await e.count('select 1 from page_views where user_id = $1', [kept])).toBe(1);

    // Redis: the erased device keeps only its tombstone, the user only its tombstone; no value names them.
    const all = await e.keys();
    expect(all.filter((k) => k.key.includes(own)).map((k) => k.key)).toEqual([
      expect.stringMatching(new RegExp(`:t:${own}$`)),
    ]);
    expect(all.filter((k) => k.key.includes(gone)).map((k) => k.key)).toEqual([
      expect.stringMatching(new RegExp(`:u:${gone}$`)),
    ]);
    expect(all.filter((k) => k.value.includes(gone) || k.value.includes(own))).toEqual([]);
    expect(all.find((k) => k.key.endsWith(`:l:${shared}`))?.value).toBe(kept);

    // Late traffic for the erased user or device is dropped.
    expect((await send(app, own)).json()).toEqual({ accepted: 0, tracked: false });
    expect((await sendAsUser(app, gone)).json()).toEqual({ accepted: 0, tracked: false });
    const fresh = deviceId();
    await send(app, fresh);
    expect((await identify(app, gone, fresh)).json()).toMatchObject({ userId: gone, sessionId: null });
    await waitFor(() => drained(app), { what: 'late traffic handled' });
    expect(await e.count('select 1 from page_views where device_id = $1 or user_id = $2', [own, gone])).toBe(
      0,
    );
    expect(await e.count('select 1 from identity_links where user_id = $1', [gone])).toBe(0);
    // Erasing again is harmless.
    expect(
      (await app.inject({ method: 'DELETE', url: `/v1/admin/users/${gone}`, headers: admin })).statusCode,
    ).toBe(204);
  });

  test('events still queued for an erased device or user, or arriving after, never reach Postgres', async ({
    services,
    cleanup,
  }) => {
    const e = environment(services, cleanup);
    // An ingest-only collector: everything stays queued until the persisting one starts.
    const ingest = await e.start({ PERSISTER: 'off' });
    const device = deviceId();
    const user = userId('queued');
    const linkedDevice = deviceId();

    expect((await send(ingest, device, 3)).statusCode).toBe(202);
    expect(
      (await ingest.inject({ method: 'DELETE', url: `/v1/admin/devices/${device}`, headers: admin }))
        .statusCode,
    ).toBe(204);
    expect((await send(ingest, device)).json()).toEqual({ accepted: 0, tracked: false });

    await sendAsUser(ingest, user, 2);
    await send(ingest, linkedDevice, 2);
    await identify(ingest, user, linkedDevice);
    expect(
      (await ingest.inject({ method: 'DELETE', url: `/v1/admin/users/${user}`, headers: admin })).statusCode,
    ).toBe(204);
    expect((await sendAsUser(ingest, user)).json()).toEqual({ accepted: 0, tracked: false });

    const persisting = await e.start();
    await waitFor(() => drained(persisting), { what: 'queue drained' });
    for (const table of ['sessions', 'page_views', 'devices']) {
      expect(await e.count(`select 1 from ${table} where device_id = $1`, [device]), table).toBe(0);
    }
    expect(await e.count('select 1 from page_views where user_id = $1', [user])).toBe(0);
    expect(await e.count('select 1 from identity_links where user_id = $1', [user])).toBe(0);
    expect(await e.count('select 1 from sessions where converted_user_id = $1', [user])).toBe(0);
  });

  test('refuses an invalid device or user id with 400 and a DL_ code', async ({ services, cleanup }) => {
    const e = environment(services, cleanup);
    const app = await e.start();
    const bad = await app.inject({ method: 'DELETE', url: '/v1/admin/devices/short', headers: admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('DL_INVALID_DEVICE_ID');
    const eraseUser = (path: string) =>
      app.inject({ method: 'DELETE', url: `/v1/admin/users/${path}`, headers: admin });
    const ctl = await eraseUser('a%01b');
    expect(ctl.statusCode).toBe(400);
    expect(ctl.json().code).toBe('DL_INVALID_USER_ID');
    const long = await eraseUser('u'.repeat(257));
    expect(long.statusCode).toBe(400);
    expect(long.json().code).toBe('DL_INVALID_USER_ID');
    const huge = await eraseUser('u'.repeat(2000));
    expect(huge.statusCode).toBeGreaterThanOrEqual(400);
    expect(huge.statusCode).toBeLessThan(500);
    expect(huge.json().code).toMatch(/^DL_/);
    const noToken = await app.inject({ method: 'DELETE', url: '/v1/admin/users/someone' });
    expect(noToken.statusCode).toBe(401);
  });
});
