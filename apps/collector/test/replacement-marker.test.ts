/**
 * The replacement marker and conversion over one browser's ids through the collector (docs/protocol.md,
 * Replacement marker, Conversion), on real Redis + Postgres and on the embedded defaults: after a reset
 * the new id takes the cookie over with no edge and a boundary no login converts across; a forged or
 * simple request carrying a marker leaves the cookie; two tabs tied by a yield edge convert together.
 */
import { hasServices, waitFor } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  type CollectorBacking,
  deviceId,
  eventsBody,
  useCollector,
} from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';

const SECRET = 'replacement-marker-secret-0123456789abcdef';
const ORIGIN = 'https://shop.test';

const environments: Array<{ name: string; backing: CollectorBacking }> = [
  ...(hasServices('redis', 'postgres') ? [{ name: 'Redis + Postgres', backing: 'redis' as const }] : []),
  { name: 'embedded', backing: 'embedded' },
];

const bearer = (sub: string) => `Bearer ${signJwt('HS256', claims({ sub }), SECRET)}`;
const deviceCookie = (res: { headers: Record<string, unknown> }): string | undefined => {
  const v = res.headers['set-cookie'];
  return (Array.isArray(v) ? v : v === undefined ? [] : [String(v)]).find((c) => c.startsWith('device_fp='));
};

describe.each(environments)('the replacement marker over HTTP: $name', (environment) => {
  const ctx = useCollector(
    'replacement',
    { JWT_SECRET: SECRET, ADMIN_TOKEN, QUEUE_PARTITIONS: '4', CORS_ORIGINS: ORIGIN },
    environment.backing,
  );

  const events = (app: FastifyInstance, headers: Record<string, string>, body = eventsBody(1)) =>
    app.inject({ method: 'POST', url: '/v1/events', headers: { origin: ORIGIN, ...headers }, payload: body });

  const detailWhen = (app: FastifyInstance, device: string, ready: (d: any) => boolean, what: string) =>
    waitFor(
      async () => {
        const res = await app.inject({
          url: `/v1/admin/devices/${device}`,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const d = res.statusCode === 200 ? res.json() : null;
        return d && ready(d) ? d : null;
      },
      { what, timeoutMs: 30_000 },
    );

  it('a preflight from an allowed origin allows X-Device-Replaces', async () => {
    const res = await ctx.app.inject({
      method: 'OPTIONS',
      url: '/v1/events',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-device-fingerprint,x-device-replaces',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('x-device-replaces');
  });

  it('after a reset the new id takes the cookie over, and a login on it never converts the previous person', async () => {
    const { app } = ctx;
    const [old, next] = [deviceId(), deviceId()];
    expect((await events(app, { 'x-device-fingerprint': old })).statusCode).toBe(202);
    const replaced = await events(app, {
      'x-device-fingerprint': next,
      'x-device-replaces': old,
      cookie: `device_fp=${old}`,
    });
    expect(replaced.statusCode).toBe(202);
    expect(replaced.headers['x-device-fingerprint']).toBe(next);
    expect(deviceCookie(replaced)).toMatch(new RegExp(`^device_fp=${next};`));
    // A host the marker never reached (the cookie DELETE failed there too) ties the two with an edge
    // later: the boundary still keeps the login from crossing it.
    await events(app, { 'x-device-fingerprint': next, cookie: `device_fp=${old}` });
    const login = await app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: { 'x-device-fingerprint': next, authorization: bearer('next-person') },
    });
    expect(login.statusCode).toBe(200);
    await detailWhen(
      app,
      next,
      (d) =>
        d.links.length === 1 && d.persisted.sessions.every((s: any) => s.convertedUserId === 'next-person'),
      "the new person's session converted",
    );
    const previous = await detailWhen(
      app,
      old,
      (d) => d.edges.length === 1,
      'the late cookie edge persisted',
    );
    expect(previous.persisted.sessions.map((s: any) => s.convertedUserId)).toEqual([null]);
    // No report puts the two people in one browser, and erasing the new person leaves the previous one.
    expect(previous.browser.devices.map((m: any) => m.deviceId)).toEqual([old]);
    const erased = await app.inject({
      method: 'DELETE',
      url: '/v1/admin/users/next-person',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(erased.statusCode).toBeLessThan(300);
    await waitFor(
      async () =>
        (
          await app.inject({
            url: `/v1/admin/devices/${next}`,
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          })
        ).statusCode === 404,
      { what: "the new person's device erased", timeoutMs: 30_000 },
    );
    const kept = await detailWhen(
      app,
      old,
      (d) => d.persisted.sessions.length === 1,
      'the previous person kept',
    );
    expect(kept.persisted.pageViews).toBe(1);
  });

  it('a login as the first request after a reset moves the cookie and converts only the new person', async () => {
    const { app } = ctx;
    const [old, next] = [deviceId(), deviceId()];
    await events(app, { 'x-device-fingerprint': old });
    const login = await app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: {
        origin: ORIGIN,
        'x-device-fingerprint': next,
        'x-device-replaces': old,
        cookie: `device_fp=${old}`,
        authorization: bearer('first-login'),
      },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json()).toMatchObject({ userId: 'first-login', deviceId: next });
    expect(deviceCookie(login)).toMatch(new RegExp(`^device_fp=${next};`));
    // The page views that follow, and a late edge from a host the marker never reached.
    await events(app, { 'x-device-fingerprint': next, cookie: `device_fp=${next}` });
    await events(app, { 'x-device-fingerprint': next, cookie: `device_fp=${old}` });
    const previous = await detailWhen(
      app,
      old,
      (d) => d.edges.length === 1,
      'the late cookie edge persisted',
    );
    expect(previous.persisted.sessions.map((s: any) => s.convertedUserId)).toEqual([null]);
  });

  it('a wrong old id, a beacon with the marker in its body and a text/plain POST with the header leave the cookie', async () => {
    const { app } = ctx;
    const [old, next] = [deviceId(), deviceId()];
    await events(app, { 'x-device-fingerprint': old });
    const wrong = await events(app, {
      'x-device-fingerprint': next,
      'x-device-replaces': deviceId(),
      cookie: `device_fp=${old}`,
    });
    const beacon = await events(
      app,
      { 'content-type': 'text/plain;charset=UTF-8', cookie: `device_fp=${old}` },
      JSON.stringify(eventsBody(1, { deviceId: next, replaces: old })) as never,
    );
    const plain = await events(
      app,
      {
        'content-type': 'text/plain',
        'x-device-fingerprint': next,
        'x-device-replaces': old,
        cookie: `device_fp=${old}`,
      },
      JSON.stringify(eventsBody(1)) as never,
    );
    for (const res of [wrong, beacon, plain]) {
      expect(res.statusCode).toBe(202);
      expect(deviceCookie(res)).toBeUndefined();
    }
  });

  it('the identity figures do not count an edge across a boundary as one browser', async () => {
    const { app } = ctx;
    const figures = async () =>
      (
        await app.inject({
          url: '/v1/admin/insights/identity',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).json().cookieEdges as number;
    const before = await figures();
    const db = app.collector.resources.db.db;
    const [a, b, c, d] = [deviceId(), deviceId(), deviceId(), deviceId()];
    const t = new Date(Date.now() - 60_000);
    await db
      .insertInto('device_edges')
      .values([
        { device_id: b, other_id: a, kind: 'cookie', first_seen: t },
        { device_id: d, other_id: c, kind: 'cookie', first_seen: t },
      ])
      .execute();
    await db.insertInto('device_boundaries').values({ device_id: a, other_id: b, replaced_at: t }).execute();
    expect(await figures()).toBe(before + 1);
  });

  it('two tabs of a first visit tied by a yield edge: a login in one converts the other tab too', async () => {
    const { app } = ctx;
    const [tab1, tab2] = [deviceId(), deviceId()];
    // Both tabs' first requests race: neither carries a cookie yet.
    await events(app, { 'x-device-fingerprint': tab1, 'x-device-fresh': '1' });
    await events(app, { 'x-device-fingerprint': tab2, 'x-device-fresh': '1' });
    // The second tab's next request carries the first tab's cookie: its fresh id yields.
    const yielded = await events(app, {
      'x-device-fingerprint': tab2,
      'x-device-fresh': '1',
      cookie: `device_fp=${tab1}`,
    });
    expect(yielded.headers['x-device-fingerprint']).toBe(tab1);
    const startedAt = Date.now();
    await waitFor(() => Date.now() > startedAt + 1, { what: 'the next millisecond' });
    await app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: { 'x-device-fingerprint': tab1, authorization: bearer('tab-user') },
    });
    const other = await detailWhen(
      app,
      tab2,
      (d) => d.persisted.sessions.length === 1 && d.persisted.sessions[0].convertedUserId !== null,
      "the second tab's session converted",
    );
    expect(other.persisted.sessions[0].convertedUserId).toBe('tab-user');
  });
});
