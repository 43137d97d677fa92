/**
 * Defaults at the edge, on real Redis and Postgres (and the embedded memory
 * store where a store is involved): one failed-authentication counter per address for every route
 * that takes an operator's token, never refusing a valid token; no raw user or device id in any log
 * line; `/readyz` details closed in production; the daily salt sealed under `SALT_KEY` in Redis; the
 * roll-ups' `(other)` bucket in the read API.
 */
import { foldRollups } from '@devicelink/persister';
import { uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  scanKeys,
  startTcpProxy,
  type TestServices,
  throughProxy,
  waitFor,
} from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/collector-config.js';
import { ADMIN_TOKEN, deviceId, eventsBody, TEST_DEFAULTS, tempDataDir } from './support/collector.js';

const DASHBOARD_TOKEN = 'edge-defaults-dashboard-token-0123456';
const METRICS_TOKEN = 'edge-defaults-metrics-token-012345678';
const SALT_KEY = Buffer.alloc(32, 5).toString('base64');
// Documentation addresses (RFC 5737): nothing else in a run carries them.
const GUESSER = '203.0.113.31';
const ELSEWHERE = '198.51.100.4';
const wrong = { authorization: 'Bearer not-a-token-of-this-collector-0123' };
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const stats = '/v1/admin/stats?from=2026-01-01&to=2026-01-02';

/** Requests from `address`: a wrong token on one admin or read route after another. */
async function guess(apps: FastifyInstance[], address: string, urls: string[]) {
  const answers = [];
  for (const [i, url] of urls.entries()) {
    const res = await apps[i % apps.length]!.inject({ url, headers: wrong, remoteAddress: address });
    answers.push(res);
  }
  return answers;
}

/** The failed-authentication limit, on any collector set-up (`start` builds one more collector). */
async function failedAuthenticationLimit(start: () => Promise<FastifyInstance>, collectors: number) {
  const apps = await Promise.all(Array.from({ length: collectors }, start));
  // Three failures a minute, one counter for every route (and every collector of the store).
  const urls = [
    stats,
    '/v1/admin/insights/top?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z',
    `/v1/admin/devices/${deviceId()}`,
  ];
  const first = await guess(apps, GUESSER, urls);
  expect(first.map((r) => r.statusCode)).toEqual([401, 401, 401]);
  const refused = await guess(apps, GUESSER, [
    '/v1/admin/audit',
    '/v1/admin/dead-letters',
    '/metrics',
    '/readyz',
  ]);
  for (const res of refused.slice(0, 3)) {
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ statusCode: 429, code: 'DL_RATE_LIMITED' });
    expect(res.json().message).toMatch(/failed authentications per minute from this address/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  }
  // /readyz (details open outside production) answers to anyone: a token there is not checked.
  expect(refused[3]!.statusCode).toBe(200);
  // No token at all is a failed authentication too.
  expect((await apps[0]!.inject({ url: stats, remoteAddress: GUESSER })).statusCode).toBe(429);
  // A valid token from the same address always passes, on every collector, whatever its failures.
  for (const app of apps) {
    expect((await app.inject({ url: stats, headers: admin, remoteAddress: GUESSER })).statusCode).toBe(200);
    const read = await app.inject({
      url: '/v1/admin/insights/identity',
      headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` },
      remoteAddress: GUESSER,
    });
    expect(read.statusCode).toBe(200);
    const scrape = await app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      remoteAddress: GUESSER,
    });
    expect(scrape.statusCode).toBe(200);
  }
  // The dashboard token on an admin-only route is a 403, not a failure.
  const readOnly = await apps[0]!.inject({
    method: 'DELETE',
    url: '/v1/admin/users/someone',
    headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` },
    remoteAddress: ELSEWHERE,
  });
  expect(readOnly.statusCode).toBe(403);
  // Another address has a counter of its own.
  expect((await guess(apps, ELSEWHERE, [stats]))[0]!.statusCode).toBe(401);
  return apps;
}

const tokens = { ADMIN_TOKEN, DASHBOARD_TOKEN, METRICS_TOKEN, ADMIN_RATE_LIMIT_PER_MINUTE: '3' };

describe('one failed-authentication counter per address', () => {
  test('on the embedded memory store', async ({ cleanup }) => {
    const data = tempDataDir();
    cleanup(() => data.remove());
    await failedAuthenticationLimit(async () => {
      const app = await buildApp(loadConfig({ ...TEST_DEFAULTS, DATA_DIR: data.dir, ...tokens }), {
        logger: false,
      });
      cleanup(() => app.close());
      return app;
    }, 1);
  });

  test.runIf(hasServices('redis', 'postgres'))(
    'on Redis, shared by two collectors, one key per address that holds no address',
    async ({ services, cleanup }) => {
      await failedAuthenticationLimit(async () => {
        const app = await buildApp(
          loadConfig({ ...TEST_DEFAULTS, ...services.env, PERSISTER: 'off', SALT_KEY, ...tokens }),
          { logger: false },
        );
        cleanup(() => app.close());
        return app;
      }, 2);
      const keys = (await scanKeys(services.redis!, `${services.prefix}rl:*`)).map((k) =>
        k.slice(services.prefix.length),
      );
      expect(keys).toHaveLength(2);
      for (const key of keys) expect(key).toMatch(/^rl:auth:[A-Za-z0-9_-]{22}$/);
      expect(keys.join()).not.toContain(GUESSER);
      const ttl = await services.redis!.pttl(`${services.prefix}${keys[0]}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    },
  );
});

// Seeds of the three-node cluster started by the global setup (null: skipped, it said why).
const clusterSeeds = hasServices('redis', 'postgres') ? inject('redisClusterNodes') : null;

test.runIf(clusterSeeds)(
  'one failed-authentication counter per address on a Redis Cluster',
  async ({ services, cleanup }) => {
    await failedAuthenticationLimit(async () => {
      const app = await buildApp(
        loadConfig({
          ...TEST_DEFAULTS,
          ...services.env,
          REDIS_URL: '',
          REDIS_CLUSTER_NODES: clusterSeeds!,
          PERSISTER: 'off',
          QUEUE_PARTITIONS: '16',
          SALT_KEY,
          ...tokens,
        }),
        { logger: false },
      );
      cleanup(() => app.close());
      return app;
    }, 2);
  },
);

describe.runIf(hasServices('redis', 'postgres'))('Redis and Postgres', () => {
  async function start(
    services: TestServices,
    cleanup: (fn: () => unknown) => void,
    extra: Record<string, string> = {},
  ) {
    const logs: string[] = [];
    const app = await buildApp(
      loadConfig({
        ...TEST_DEFAULTS,
        ...services.env,
        ADMIN_TOKEN,
        DASHBOARD_TOKEN,
        METRICS_TOKEN,
        SALT_KEY,
        QUEUE_PARTITIONS: '4',
        LOG_LEVEL: 'debug',
        ...extra,
      }),
      { logStream: { write: (line) => logs.push(line) } },
    );
    cleanup(() => app.close());
    return { app, logs };
  }

  test('no log line holds a raw user or device id: admin paths that miss their route, matched ones, device routes', async ({
    services,
    cleanup,
  }) => {
    const { app, logs } = await start(services, cleanup, { PERSISTER: 'off' });
    const device = deviceId();
    const user = `user-${uuidv7()}@example.test`;
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { 'x-device-fingerprint': device },
          payload: eventsBody(1),
        })
      ).statusCode,
    ).toBe(202);
    const misses = [
      `/v1/admin/users/${encodeURIComponent(user)}/typo`,
      `/v1/admin/devices/${device}/extra`,
      `/v1/admin/device/${device}`,
      `/v1/device/${device}`,
      `/${device}`,
    ];
    for (const url of misses) {
      const res = await app.inject({ url, headers: admin });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ code: 'DL_NOT_FOUND' });
    }
    await app.inject({ url: `/v1/admin/devices/${device}`, headers: admin });
    await app.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${encodeURIComponent(user)}`,
      headers: admin,
    });
    await app.inject({ method: 'DELETE', url: `/v1/admin/devices/${device}`, headers: admin });
    await app.inject({ method: 'DELETE', url: '/v1/device', headers: { 'x-device-fingerprint': device } });
    const text = logs.join('');
    expect(logs.length).toBeGreaterThan(10);
    for (const secret of [device, user, encodeURIComponent(user)]) expect(text, secret).not.toContain(secret);
    // The misses are logged with their route words and a hash of every other segment.
    const urls = logs
      .map((l) => JSON.parse(l) as { req?: { url: string } })
      .flatMap((l) => (l.req ? [l.req.url] : []));
    expect(urls).toContain('/v1/admin/devices/:deviceId');
    expect(urls.some((u) => /^\/v1\/admin\/users\/~[0-9a-f]{8}\/~[0-9a-f]{8}$/.test(u))).toBe(true);
    expect(urls.some((u) => /^\/v1\/device\/~[0-9a-f]{8}$/.test(u))).toBe(true);
  });

  test('production answers /readyz with the status alone, and its details (the same fields every time) to an operator token', async ({
    services,
    cleanup,
  }) => {
    const pg = new URL(services.env.DATABASE_URL!);
    const proxy = await startTcpProxy(pg.hostname, Number(pg.port || 5432));
    cleanup(() => proxy.close());
    const { app } = await start(services, cleanup, {
      NODE_ENV: 'production',
      DATABASE_URL: throughProxy(services.env.DATABASE_URL!, proxy),
      ADMIN_RATE_LIMIT_PER_MINUTE: '2',
    });
    const brief = await app.inject({ url: '/readyz' });
    expect(brief.statusCode).toBe(200);
    expect(brief.json()).toEqual({ status: 'ready' });
    const fields = Object.keys((await app.inject({ url: '/readyz', headers: admin })).json()).sort();
    expect(fields).toContain('persisters');
    expect(fields).toContain('deadLetters');
    for (const token of [DASHBOARD_TOKEN, METRICS_TOKEN]) {
      const res = await app.inject({ url: '/readyz', headers: { authorization: `Bearer ${token}` } });
      expect(Object.keys(res.json()).sort()).toEqual(fields);
    }
    // A wrong token gets the status alone, and counts as a failed authentication (429 past the limit).
    const address = { remoteAddress: GUESSER };
    expect((await app.inject({ url: '/readyz', headers: wrong, ...address })).json()).toEqual({
      status: 'ready',
    });
    await app.inject({ url: '/readyz', headers: wrong, ...address });
    const limited = await app.inject({ url: '/readyz', headers: wrong, ...address });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'DL_RATE_LIMITED' });
    // A balancer sends no token: never counted, never refused.
    expect((await app.inject({ url: '/readyz', ...address })).statusCode).toBe(200);
    // Not ready: the status alone again, the details with the token, their fields unchanged.
    proxy.cut();
    await waitFor(async () => (await app.inject({ url: '/readyz?role=read' })).statusCode === 503, {
      what: 'readyz?role=read seeing Postgres gone',
    });
    expect((await app.inject({ url: '/readyz?role=read' })).json()).toEqual({ status: 'unavailable' });
    const down = await app.inject({ url: '/readyz?role=read', headers: admin });
    expect(down.statusCode).toBe(503);
    expect(Object.keys(down.json()).sort()).toEqual(fields);
    expect(down.json().error).toMatch(/Postgres/);
    proxy.restore();
  });

  test('READYZ_DETAILS=open shows production’s details to everyone', async ({ services, cleanup }) => {
    const { app } = await start(services, cleanup, {
      NODE_ENV: 'production',
      READYZ_DETAILS: 'open',
      PERSISTER: 'off',
    });
    expect((await app.inject({ url: '/readyz' })).json()).toHaveProperty('partitions');
  });

  test('keeps the daily salt in Redis sealed under SALT_KEY, shared by two collectors: their visitor hashes agree', async ({
    services,
    cleanup,
  }) => {
    const [a, b] = [
      await start(services, cleanup, { PERSISTER: 'off' }),
      await start(services, cleanup, { PERSISTER: 'off' }),
    ];
    // Browsers without the SDK (no device id): the collector makes one and a visitor hash of the client.
    const headers = { 'user-agent': 'Mozilla/5.0 edge-defaults', 'accept-language': 'en' };
    const first = await a.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers,
      payload: eventsBody(1),
      remoteAddress: GUESSER,
    });
    const second = await b.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers,
      payload: eventsBody(1),
      remoteAddress: GUESSER,
    });
    const hashOf = async (app: FastifyInstance, id: string) =>
      (await app.collector.resources.store.session(id))?.visitorHash;
    const [ha, hb] = [
      await hashOf(a.app, first.json().deviceId),
      await hashOf(b.app, second.json().deviceId),
    ];
    expect(ha).toBeTruthy();
    expect(ha).toBe(hb);
    const redis = services.redis as Redis;
    const salts = (await scanKeys(redis, `${services.prefix}salt:*`)).map((k) =>
      k.slice(services.prefix.length),
    );
    expect(salts).toHaveLength(1);
    expect(salts[0]).toMatch(/^salt:\d{4}-\d\d-\d\d:[A-Za-z0-9_-]{8}$/);
    expect(await redis.get(`${services.prefix}${salts[0]}`)).toMatch(/^g1\./);
  });

  test('the read API shows the (other) bucket of a folded hour', async ({ services, cleanup }) => {
    const { app } = await start(services, cleanup, { PERSISTER: 'on' });
    for (let i = 0; i < 4; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'x-device-fingerprint': deviceId() },
        payload: { events: [{ type: 'pageview', url: `https://shop.test/unique-${i}`, id: uuidv7() }] },
      });
      expect(res.statusCode).toBe(202);
    }
    const db = app.collector.resources.db.db;
    await waitFor(async () => (await db.selectFrom('page_views').select('event_id').execute()).length === 4, {
      what: 'four page views persisted',
    });
    // An hour from now, this hour is past: kept by name up to 2 pages, the others in (other).
    const result = await foldRollups(db, { keysPerHour: 2, now: new Date(Date.now() + 2 * 3_600_000) });
    expect(result.folded).toBeGreaterThan(0);
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const from = new Date(hour - 3_600_000).toISOString();
    const to = new Date(hour + 2 * 3_600_000).toISOString();
    const top = await app.inject({ url: `/v1/admin/insights/top?from=${from}&to=${to}`, headers: admin });
    expect(top.statusCode).toBe(200);
    const pages = top.json().pages as Array<{ key: string; pageViews: number }>;
    expect(pages).toHaveLength(3);
    expect(pages.find((p) => p.key === '(other)')?.pageViews).toBe(2);
    expect(pages.reduce((n, p) => n + p.pageViews, 0)).toBe(4);
  });
});
