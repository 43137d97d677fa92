/**
 * The conversion flow through the collector's routes (docs/protocol.md: Conversion), on real Redis + Postgres
 * and on the embedded defaults: page views, identify, logout, another user's login, retries, and
 * identify without a device. What Postgres holds is read through the admin device detail, polled
 * until the persister caught up.
 */
import { uuidv7 } from '@devicelink/protocol';
import { hasServices, waitFor } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type CollectorBacking, deviceId, useCollector } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';

const SECRET = 'conversion-flow-secret-0123456789abcdef';

const environments: Array<{ name: string; backing: CollectorBacking }> = [
  ...(hasServices('redis', 'postgres') ? [{ name: 'Redis + Postgres', backing: 'redis' as const }] : []),
  { name: 'embedded', backing: 'embedded' },
];

const bearer = (sub: string) => `Bearer ${signJwt('HS256', claims({ sub }), SECRET)}`;

describe.each(environments)('conversion over HTTP: $name', (environment) => {
  // One collector for the four tests: each works on its own device and users.
  const ctx = useCollector(
    'conversion',
    { JWT_SECRET: SECRET, ADMIN_TOKEN, QUEUE_PARTITIONS: '4' },
    environment.backing,
  );

  const pageViews = async (app: FastifyInstance, device: string, n: number, ids = [] as string[]) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': device },
      payload: {
        events: Array.from({ length: n }, (_, i) => ({
          type: 'pageview',
          url: `https://shop.test/p/${i}`,
          id: ids[i] ?? uuidv7(),
        })),
      },
    });
    expect(res.statusCode).toBe(202);
    return res.json() as { accepted: number; sessionId?: string };
  };

  const identify = async (app: FastifyInstance, headers: Record<string, string>) => {
    const res = await app.inject({ method: 'POST', url: '/v1/identify', headers });
    expect(res.statusCode).toBe(200);
    return res.json() as { userId: string; deviceId: string | null; sessionId: string | null };
  };

  const detail = async (app: FastifyInstance, device: string) =>
    (
      await app.inject({
        method: 'GET',
        url: `/v1/admin/devices/${device}`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json();

  /** Polls the device detail until `ready` holds for it (the persister runs in the background). */
  const detailWhen = (app: FastifyInstance, device: string, ready: (d: any) => boolean, what: string) =>
    waitFor(
      async () => {
        const d = await detail(app, device);
        return ready(d) ? d : null;
      },
      { what, timeoutMs: 30_000 },
    );

  it('a login links the device, converts its session, a second identical call adds no link, and identify counts no page view', async () => {
    const { app } = ctx;
    const d = deviceId();
    const first = await pageViews(app, d, 3);
    const linked = await identify(app, { 'x-device-fingerprint': d, authorization: bearer('user-1') });
    expect(linked).toEqual({ userId: 'user-1', deviceId: d, sessionId: first.sessionId });

    const converted = await detailWhen(
      app,
      d,
      (x) => x.links.length === 1 && x.persisted.sessions[0]?.convertedUserId === 'user-1',
      'link and converted session',
    );
    expect(converted.liveSession).toBeNull();
    expect(converted.links[0].userId).toBe('user-1');
    expect(converted.persisted.sessions).toHaveLength(1);
    expect(converted.persisted.sessions[0]).toMatchObject({ id: first.sessionId, pageViews: 3 });
    expect(converted.persisted.pageViews).toBe(3);

    const again = await identify(app, { 'x-device-fingerprint': d, authorization: bearer('user-1') });
    expect(again).toEqual({ userId: 'user-1', deviceId: d, sessionId: null });
    // A later page view of the same partition is persisted after anything the second call queued.
    const marker = await pageViews(app, d, 1);
    const settled = await detailWhen(
      app,
      d,
      (x) => x.persisted.sessions.some((s: any) => s.id === marker.sessionId),
      'the marker page view',
    );
    expect(settled.links).toHaveLength(1);
    // 3 + 1 page views; the identify calls counted none.
    expect(settled.persisted.pageViews).toBe(4);
    expect(settled.liveSession.pagesVisited).toBe(1);
  });

  it('after a logout a new session starts, and another user login links only the sessions since', async () => {
    const { app } = ctx;
    const d = deviceId();
    const s1 = await pageViews(app, d, 2);
    await identify(app, { 'x-device-fingerprint': d, authorization: bearer('alice') });
    // The conversion rule takes a link "at or after the session started" in milliseconds: a page view
    // in the same millisecond as the login (a warm in-process collector answers that fast) would tie
    // and go to alice. A logout is never that quick; wait for the clock to move on (no assertion).
    const loggedInAt = Date.now();
    await waitFor(() => Date.now() > loggedInAt + 1, { what: 'the next millisecond' });
    // Logged out: anonymous page views again, without a token.
    const s2 = await pageViews(app, d, 2);
    expect(s2.sessionId).toBeDefined();
    expect(s2.sessionId).not.toBe(s1.sessionId);
    const bob = await identify(app, { 'x-device-fingerprint': d, authorization: bearer('bob') });
    expect(bob.sessionId).toBe(s2.sessionId);

    const done = await detailWhen(
      app,
      d,
      (x) => x.links.length === 2 && x.persisted.sessions.every((s: any) => s.convertedUserId !== null),
      'both sessions converted',
    );
    const byId = Object.fromEntries(done.persisted.sessions.map((s: any) => [s.id, s.convertedUserId]));
    expect(byId).toEqual({ [s1.sessionId!]: 'alice', [s2.sessionId!]: 'bob' });
    expect(done.links.map((l: any) => l.userId)).toEqual(['alice', 'bob']);
  });

  it('a page view retried after the conversion is accepted without starting a session, and the next one starts a fresh session', async () => {
    const { app } = ctx;
    const d = deviceId();
    const id = uuidv7();
    const first = await pageViews(app, d, 1, [id]);
    await identify(app, { 'x-device-fingerprint': d, authorization: bearer('carol') });
    const retry = await pageViews(app, d, 1, [id]);
    expect(retry).toEqual({ accepted: 0, tracked: true, deviceId: d });
    const next = await pageViews(app, d, 1);
    expect(next.accepted).toBe(1);
    expect(next.sessionId).not.toBe(first.sessionId);
    const settled = await detailWhen(
      app,
      d,
      (x) => x.persisted.pageViews === 2 && x.persisted.sessions.length === 2,
      'two sessions persisted',
    );
    expect(settled.liveSession.pagesVisited).toBe(1);
    expect(settled.persisted.sessions.map((s: any) => s.pageViews)).toEqual([1, 1]);
  });

  it('identify without any device id answers deviceId null and links nothing; with only the cookie it links', async () => {
    const { app } = ctx;
    const none = await identify(app, { authorization: bearer('dave') });
    expect(none).toEqual({ userId: 'dave', deviceId: null, sessionId: null });

    const d = deviceId();
    await pageViews(app, d, 1);
    const viaCookie = await identify(app, { cookie: `device_fp=${d}`, authorization: bearer('erin') });
    expect(viaCookie.deviceId).toBe(d);
    await detailWhen(app, d, (x) => x.links.length === 1, 'the cookie link');
    const db = app.collector.resources.db.db;
    const links = await db
      .selectFrom('identity_links')
      .select(['user_id', 'device_id'])
      .where('user_id', 'in', ['dave', 'erin'])
      .execute();
    // Only erin's link: dave's identify had no device to link.
    expect(links).toEqual([{ user_id: 'erin', device_id: d }]);
  });
});
