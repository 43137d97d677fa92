/**
 * The read API behind the dashboard (apps/collector/README.md, Dashboard and read API): figures from the
 * roll-ups after real ingest, journeys, exports (NDJSON, CSV, resumed by cursor), the audit log, tokens, and
 * a clear 4xx for every kind of bad input.
 */
import { uuidv7 } from '@devicelink/protocol';
import { hasServices, waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import { deviceId, useCollector } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';

const ADMIN = 'insights-admin-token-0123456789abcdef';
const DASHBOARD = 'insights-dashboard-token-0123456789abc';
const SECRET = 'insights-jwt-secret-0123456789abcdef0123';
const HOUR = 3_600_000;

const hour = (offset: number) => new Date(Math.floor(Date.now() / HOUR) * HOUR + offset * HOUR).toISOString();
const FROM = hour(-23);
const TO = hour(1);

describe.runIf(hasServices('postgres'))('the read API', () => {
  const ctx = useCollector('insights', {
    ADMIN_TOKEN: ADMIN,
    DASHBOARD_TOKEN: DASHBOARD,
    JWT_SECRET: SECRET,
  });
  const get = (url: string, token: string | null = DASHBOARD, headers: Record<string, string> = {}) =>
    ctx.app.inject({
      method: 'GET',
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
  const user = `user-${uuidv7()}`;
  const other = `other-${uuidv7()}`;

  const send = async (headers: Record<string, string>, urls: string[]) => {
    for (const url of urls) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers,
        payload: { events: [{ type: 'pageview', url, id: uuidv7(), clientTs: Date.now() }] },
      });
      expect(res.statusCode).toBe(202);
    }
  };
  const identify = async (device: string, sub: string) => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: {
        'x-device-fingerprint': device,
        authorization: `Bearer ${signJwt('HS256', claims({ sub }), SECRET)}`,
      },
    });
    expect(res.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 3));
  };

  it('counts what was sent: series, conversion, paths, top pages, journey and identity', async () => {
    const d = deviceId();
    await send({ 'x-device-fingerprint': d }, ['https://shop.test/a', 'https://shop.test/b']);
    await new Promise((r) => setTimeout(r, 3));
    await identify(d, user);
    await send({ authorization: `Bearer ${signJwt('HS256', claims({ sub: user }), SECRET)}` }, [
      'https://shop.test/me',
    ]);
    const o = deviceId();
    await send({ 'x-device-fingerprint': o }, ['https://shop.test/c']);
    await new Promise((r) => setTimeout(r, 3));
    await identify(o, other);

    const conversion = await waitFor(
      async () => {
        const c = (await get(`/v1/admin/insights/conversion?from=${FROM}&to=${TO}`)).json();
        return c.convertedSessions === 2 ? c : null;
      },
      { what: 'the conversions persisted', timeoutMs: 30_000 },
    );
    expect(conversion).toMatchObject({ sessionsStarted: 2, convertedSessions: 2, conversionRate: 1 });
    expect(conversion.viewsBeforeConversion.find((b: { lower: number }) => b.lower === 2).count).toBe(1);

    const series = (
      await get(`/v1/admin/insights/timeseries?from=${FROM}&to=${TO}&bucket=hour&tz=Asia/Kolkata`)
    ).json();
    // 24 UTC hours on a +05:30 wall clock touch 25 local hours (half of the first and the last).
    expect(series.points).toHaveLength(25);
    const total = (k: string) => series.points.reduce((n: number, p: Record<string, number>) => n + p[k]!, 0);
    expect([
      total('pageViewsAnonymous'),
      total('pageViewsSignedIn'),
      total('sessions'),
      total('convertedSessions'),
    ]).toEqual([3, 1, 2, 2]);
    const top = (await get(`/v1/admin/insights/top?from=${FROM}&to=${TO}&limit=2`)).json();
    expect(top.pages).toHaveLength(2);
    expect(top.referrers).toEqual([{ key: '', pageViews: 4 }]);
    const paths = (await get(`/v1/admin/insights/paths?from=${FROM}&to=${TO}`)).json();
    expect(paths.entryPages).toContainEqual({
      key: 'https://shop.test/a',
      convertedSessions: 1,
      sessions: 1,
      conversionRate: 1,
    });

    const journey = (await get(`/v1/admin/users/${user}?limit=2`)).json();
    expect(journey.sessions).toHaveLength(1);
    expect(journey.steps.map((s: { url: string }) => s.url)).toEqual([
      'https://shop.test/a',
      'https://shop.test/b',
    ]);
    const next = (await get(`/v1/admin/users/${user}?limit=2&cursor=${journey.nextCursor}`)).json();
    expect(next.steps.map((s: { url: string; signedIn: boolean }) => [s.url, s.signedIn])).toEqual([
      ['https://shop.test/me', true],
    ]);
    expect(next.nextCursor).toBeNull();

    const identity = (await get('/v1/admin/insights/identity')).json();
    expect(identity).toMatchObject({ devices: 2, users: 2, fingerprintJoins: { standing: 0, revoked: 0 } });
  });

  it('counts identity edges as stored: cookie and yield edges, joins standing or revoked, shared fingerprints', async () => {
    const figures = async () => (await get('/v1/admin/insights/identity')).json();
    const before = await figures();
    const db = ctx.app.collector.resources.db.db;
    const [a, b, c, d, e, f, g] = [
      deviceId(),
      deviceId(),
      deviceId(),
      deviceId(),
      deviceId(),
      deviceId(),
      deviceId(),
    ];
    const t = new Date(Date.now() - 60_000);
    const later = new Date(t.getTime() + 1_000);
    await db
      .insertInto('device_edges')
      .values([
        { device_id: a, other_id: b, kind: 'cookie', first_seen: t },
        { device_id: b, other_id: c, kind: 'cookie', first_seen: t },
        { device_id: c, other_id: d, kind: 'yield', first_seen: t },
        // Joined to e, then e was seen again: revoked.
        { device_id: f, other_id: e, kind: 'join', first_seen: t },
        // Joined to g after g's earlier revocation: that join stands.
        { device_id: d, other_id: g, kind: 'join', first_seen: later },
      ])
      .execute();
    await db
      .insertInto('fingerprint_revocations')
      .values([
        { device_id: e, revoked_until: later },
        { device_id: g, revoked_until: t },
      ])
      .execute();
    const after = await figures();
    expect({
      edges: after.cookieEdges - before.cookieEdges,
      standing: after.fingerprintJoins.standing - before.fingerprintJoins.standing,
      revoked: after.fingerprintJoins.revoked - before.fingerprintJoins.revoked,
      shared: after.sharedFingerprints - before.sharedFingerprints,
    }).toEqual({ edges: 3, standing: 1, revoked: 1, shared: 2 });
  });

  it('exports page views as NDJSON and CSV, resumable by cursor, and a user as one document; both audited', async () => {
    const ndjson = await get(`/v1/admin/export/pageviews?from=${FROM}&to=${TO}`);
    expect(ndjson.headers['content-type']).toMatch(/application\/x-ndjson/);
    const rows = ndjson.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(4);
    const resumed = await get(`/v1/admin/export/pageviews?from=${FROM}&to=${TO}&cursor=${rows[1].cursor}`);
    expect(
      resumed.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).eventId),
    ).toEqual(rows.slice(2).map((r) => r.eventId));
    const csv = await get(`/v1/admin/export/pageviews?from=${FROM}&to=${TO}`, DASHBOARD, {
      accept: 'text/csv',
    });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="pageviews-[\d-]+\.csv"$/);
    expect(ndjson.headers['content-disposition']).toMatch(
      /^attachment; filename="pageviews-[\d-]+\.ndjson"$/,
    );
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'eventId,serverTs,clientTs,deviceId,userId,sessionId,url,referrer,trafficClass,cursor',
    );
    expect(lines).toHaveLength(5);

    const doc = (await get(`/v1/admin/users/${user}/export`)).json();
    expect(doc.userId).toBe(user);
    expect(doc.links).toHaveLength(1);
    expect(doc.sessions).toHaveLength(1);
    expect(doc.sessionPageViews.map((p: { url: string }) => p.url)).toEqual([
      'https://shop.test/a',
      'https://shop.test/b',
    ]);
    expect(doc.signedInPageViews.map((p: { url: string }) => p.url)).toEqual(['https://shop.test/me']);
    expect(JSON.stringify(doc)).not.toContain(other);

    const audit = (await get('/v1/admin/audit', ADMIN)).json();
    expect(
      audit.entries.map((e: { action: string; actor: string }) => [e.action, e.actor]).slice(0, 4),
    ).toEqual([
      ['export-user', 'dashboard'],
      ['export-pageviews', 'dashboard'],
      ['export-pageviews', 'dashboard'],
      ['export-pageviews', 'dashboard'],
    ]);
  });

  it('records erasures in the audit log; the read-only token cannot erase or read the audit', async () => {
    const del = (url: string, token: string) =>
      ctx.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${token}` } });
    expect((await del(`/v1/admin/users/${other}`, DASHBOARD)).json().code).toBe('DL_READ_ONLY_TOKEN');
    expect((await del(`/v1/admin/devices/${deviceId()}`, DASHBOARD)).statusCode).toBe(403);
    expect((await get('/v1/admin/audit', DASHBOARD)).statusCode).toBe(403);
    expect((await del(`/v1/admin/users/${other}`, ADMIN)).statusCode).toBe(204);
    const audit = (await get('/v1/admin/audit?limit=1', ADMIN)).json();
    expect(audit.entries[0]).toMatchObject({ action: 'erase-user', actor: 'admin', subject: other });
    expect(audit.nextCursor).toMatch(/^\d+$/);
  });

  it.each([
    ['no token', '/v1/admin/insights/identity', null, 401, 'DL_ADMIN_UNAUTHORIZED'],
    ['a wrong token', '/v1/admin/insights/identity', 'x'.repeat(40), 401, 'DL_ADMIN_UNAUTHORIZED'],
    ['no range', '/v1/admin/insights/conversion', DASHBOARD, 400, 'DL_INVALID_STATS_RANGE'],
    [
      'a bound that is no date',
      `/v1/admin/insights/conversion?from=yesterday&to=${TO}`,
      DASHBOARD,
      400,
      'DL_INVALID_STATS_RANGE',
    ],
    [
      'a bound off the hour',
      `/v1/admin/insights/conversion?from=2026-01-01T10:30:00Z&to=${TO}`,
      DASHBOARD,
      400,
      'DL_INVALID_STATS_RANGE',
    ],
    [
      'bounds in the wrong order',
      `/v1/admin/insights/top?from=${TO}&to=${FROM}`,
      DASHBOARD,
      400,
      'DL_INVALID_STATS_RANGE',
    ],
    [
      'an hourly range over 31 days',
      `/v1/admin/insights/timeseries?from=2026-01-01&to=2026-02-02&bucket=hour`,
      DASHBOARD,
      400,
      'DL_INVALID_STATS_RANGE',
    ],
    [
      'a range over 400 days',
      '/v1/admin/insights/paths?from=2024-01-01&to=2026-01-01',
      DASHBOARD,
      400,
      'DL_INVALID_STATS_RANGE',
    ],
    [
      'an unknown bucket',
      `/v1/admin/insights/timeseries?from=${FROM}&to=${TO}&bucket=month`,
      DASHBOARD,
      400,
      'DL_INVALID_REQUEST',
    ],
    [
      'an unknown time zone',
      `/v1/admin/insights/timeseries?from=${FROM}&to=${TO}&tz=Mars/Base`,
      DASHBOARD,
      400,
      'DL_INVALID_QUERY',
    ],
    [
      'a malformed time zone',
      `/v1/admin/insights/timeseries?from=${FROM}&to=${TO}&tz=%27;drop`,
      DASHBOARD,
      400,
      'DL_INVALID_QUERY',
    ],
    [
      'a limit of 0',
      `/v1/admin/insights/top?from=${FROM}&to=${TO}&limit=0`,
      DASHBOARD,
      400,
      'DL_INVALID_REQUEST',
    ],
    [
      'a limit that is no number',
      `/v1/admin/insights/top?from=${FROM}&to=${TO}&limit=ten`,
      DASHBOARD,
      400,
      'DL_INVALID_REQUEST',
    ],
    [
      'a forged cursor',
      '/v1/admin/users/someone?cursor=bm90LWEtY3Vyc29y',
      DASHBOARD,
      400,
      'DL_INVALID_QUERY',
    ],
    [
      'a cursor with a bad id',
      `/v1/admin/users/someone?cursor=${Buffer.from('["2026-01-01T00:00:00Z","x"]').toString('base64url')}`,
      DASHBOARD,
      400,
      'DL_INVALID_QUERY',
    ],
    ['a user id with a control character', '/v1/admin/users/a%01b', DASHBOARD, 400, 'DL_INVALID_USER_ID'],
    [
      'a user id of 300 characters',
      `/v1/admin/users/${'u'.repeat(300)}`,
      DASHBOARD,
      400,
      'DL_INVALID_USER_ID',
    ],
    [
      'an export over 366 days',
      '/v1/admin/export/pageviews?from=2024-01-01&to=2026-01-01',
      DASHBOARD,
      400,
      'DL_INVALID_STATS_RANGE',
    ],
    ['an export without bounds', '/v1/admin/export/pageviews', DASHBOARD, 400, 'DL_INVALID_STATS_RANGE'],
    [
      'an export cursor outside the range',
      `/v1/admin/export/pageviews?from=${FROM}&to=${TO}&cursor=${Buffer.from(`["2020-01-01T00:00:00Z","${uuidv7()}"]`).toString('base64url')}`,
      DASHBOARD,
      400,
      'DL_INVALID_QUERY',
    ],
    ['an audit cursor that is no id', '/v1/admin/audit?cursor=abc', ADMIN, 400, 'DL_INVALID_REQUEST'],
    ['a device id of the wrong shape', '/v1/admin/devices/short', DASHBOARD, 400, 'DL_INVALID_DEVICE_ID'],
  ])('refuses %s with a clear 4xx', async (_what, url, token, status, code) => {
    const res = await get(url, token);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ statusCode: status, code, message: expect.any(String) });
  });

  it('documents the read routes with either bearer token, and serves the dashboard with a strict CSP', async () => {
    const doc = (await ctx.app.inject({ url: '/docs/json' })).json();
    for (const scheme of ['adminToken', 'dashboardToken']) {
      expect(doc.components.securitySchemes[scheme]).toMatchObject({ type: 'http', scheme: 'bearer' });
    }
    for (const path of [
      '/v1/admin/insights/timeseries',
      '/v1/admin/insights/conversion',
      '/v1/admin/insights/paths',
      '/v1/admin/insights/top',
      '/v1/admin/insights/identity',
      '/v1/admin/users/{userId}/export',
      '/v1/admin/export/pageviews',
      '/v1/admin/audit',
    ]) {
      const either = [{ adminToken: [] }, { dashboardToken: [] }];
      expect(doc.paths[path]?.get?.security, path).toEqual(
        path === '/v1/admin/audit' ? [{ adminToken: [] }] : either,
      );
    }
    const page = await ctx.app.inject({ url: '/dashboard/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe|https?:/);
    expect(page.body).not.toMatch(/<script>|<style>| style=/);
  });
});

describe('without a token', () => {
  const ctx = useCollector('insights-off');
  it('the dashboard and the read routes do not exist', async () => {
    for (const url of [
      '/dashboard/',
      '/v1/admin/insights/identity',
      '/v1/admin/users/u',
      '/v1/admin/export/pageviews',
    ]) {
      expect((await ctx.app.inject({ url })).statusCode, url).toBe(404);
    }
  });
});

describe('the dashboard in production', () => {
  const ctx = useCollector('insights-prod', {
    DASHBOARD_TOKEN: 'test-dashboard-token-0123456789abc',
    NODE_ENV: 'production',
  });
  it('serves the dashboard but not its source map, and no /metrics without METRICS_TOKEN', async () => {
    expect((await ctx.app.inject({ url: '/dashboard/app.js' })).statusCode).toBe(200);
    expect((await ctx.app.inject({ url: '/dashboard/app.js.map' })).statusCode).toBe(404);
    expect((await ctx.app.inject({ url: '/metrics' })).statusCode).toBe(404);
  });
});

describe('the dashboard outside production', () => {
  const ctx = useCollector('insights-dev', { DASHBOARD_TOKEN: 'test-dashboard-token-0123456789abc' });
  it('serves its source map for debugging, and /metrics', async () => {
    expect((await ctx.app.inject({ url: '/dashboard/app.js.map' })).statusCode).toBe(200);
    expect((await ctx.app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});

describe('/metrics in production with METRICS_TOKEN', () => {
  const token = 'test-metrics-token-0123456789abcdef';
  const ctx = useCollector('metrics-prod', { NODE_ENV: 'production', METRICS_TOKEN: token });
  it('is served behind the token', async () => {
    expect((await ctx.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const res = await ctx.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
  });
});
