/**
 * The served OpenAPI document (`/docs/json`) against the server: the document is valid OpenAPI 3, and
 * for every documented route and every status it documents, a request gets that status with a body the
 * documented schema (for the answer's content type) accepts. No request gets an undocumented status.
 * Two collectors answer: one as configured, reaching Redis and Postgres through TCP proxies that the
 * last cases close (503s), and one whose limits are 1 a minute (429s).
 */

import { EVENTS_BODY_SCHEMA } from '@devicelink/protocol/schemas';
import {
  createTestDatabase,
  hasServices,
  startTcpProxy,
  type TcpProxy,
  testEnv,
  throughProxy,
  uniquePrefix,
  waitFor,
} from '@devicelink/test-env';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/collector-config.js';
import { ADMIN_TOKEN, deviceId, eventsBody, sendPageviews } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';

const SECRET = 'openapi-conformance-secret-0123456789abc';
const METRICS_TOKEN = 'openapi-conformance-metrics-token-0123';
const DASHBOARD_TOKEN = 'openapi-conformance-dashboard-token-01';
const ORIGIN = 'https://shop.test';

type Setup = 'main' | 'limited' | 'down';
interface Case {
  name: string;
  path: string;
  method: 'get' | 'post' | 'delete';
  status: number;
  on?: Setup;
  /** Defaults: `url` is `path`, method is `method`. */
  request: Omit<InjectOptions, 'method'> & { url?: string };
}

interface OpenApiMedia {
  schema?: object;
}
interface OpenApiResponse {
  content?: Record<string, OpenApiMedia>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, OpenApiResponse> }>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const dashboard = { authorization: `Bearer ${DASHBOARD_TOKEN}` };
const userToken = (sub = 'conformance-user') => `Bearer ${signJwt('HS256', claims({ sub }), SECRET)}`;

describe.runIf(hasServices('redis', 'postgres'))('the OpenAPI document and the server agree', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const apps = {} as Record<Setup, FastifyInstance>;
  let redisProxy: TcpProxy;
  let pgProxy: TcpProxy;
  let doc: OpenApiDocument;
  const known = deviceId();

  beforeAll(async () => {
    const database = await createTestDatabase('openapi');
    cleanups.push(() => database.drop());
    const redisUrl = new URL(testEnv.redisUrl!);
    redisProxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    cleanups.push(() => redisProxy.close());
    const pgUrl = new URL(database.url);
    pgProxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    cleanups.push(() => pgProxy.close());
    const prefixes = [uniquePrefix('openapi'), uniquePrefix('openapi-limited')];
    cleanups.push(async () => {
      const redis = new Redis(testEnv.redisUrl!);
      for (const prefix of prefixes) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.unlink(...keys);
        } while (cursor !== '0');
      }
      redis.disconnect();
    });
    const base = {
      ADMIN_TOKEN,
      DASHBOARD_TOKEN,
      JWT_SECRET: SECRET,
      METRICS_TOKEN,
      CORS_ORIGINS: ORIGIN,
      // Fingerprint joins on, so the evidence route reaches the store (and answers 503 without it).
      RECOVERY_SECRET: 'openapi-conformance-recovery-secret-0123',
      QUEUE_PARTITIONS: '2',
      LOG_LEVEL: 'silent',
      // inject's user agent is a bot: with the filter on, evidence would be answered before the store.
      BOT_FILTER: 'off',
    };
    const start = async (env: Record<string, string>) => {
      const app = await buildApp(loadConfig({ ...base, ...env }), { logger: false });
      cleanups.push(() => app.close());
      return app;
    };
    apps.main = await start({
      REDIS_URL: throughProxy(testEnv.redisUrl!, redisProxy),
      DATABASE_URL: throughProxy(database.url, pgProxy),
      REDIS_KEY_PREFIX: prefixes[0]!,
    });
    apps.down = apps.main;
    apps.limited = await start({
      REDIS_URL: testEnv.redisUrl!,
      DATABASE_URL: database.url,
      REDIS_KEY_PREFIX: prefixes[1]!,
      PERSISTER: 'off',
      RATE_LIMIT_PER_MINUTE: '1',
      ADMIN_RATE_LIMIT_PER_MINUTE: '1',
    });
    doc = (await apps.main.inject({ url: '/docs/json' })).json();
    // A device the admin detail knows (its live session).
    const seen = await sendPageviews(apps.main, known, 1);
    expect(seen.statusCode).toBe(202);
    // Known to Postgres too: the identify case below ends its live session before the admin read, so
    // the read must not depend on the persister having run by then.
    await waitFor(
      async () =>
        (await apps.main.inject({ url: `/v1/admin/devices/${known}`, headers: admin })).json().persisted
          ?.pageViews >= 1,
      { what: 'the known device persisted' },
    );
  });

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('is a valid OpenAPI 3 document with bearer schemes for the admin, dashboard, user and metrics tokens', async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const schemes = doc.components?.securitySchemes ?? {};
    for (const name of ['adminToken', 'dashboardToken', 'userToken', 'metricsToken']) {
      expect(schemes[name]).toMatchObject({ type: 'http', scheme: 'bearer' });
    }
  });

  const long = 'x'.repeat(400);
  const day = 'from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z';
  const insightRoutes = [
    '/v1/admin/insights/timeseries',
    '/v1/admin/insights/conversion',
    '/v1/admin/insights/paths',
    '/v1/admin/insights/top',
    '/v1/admin/insights/excluded',
  ] as const;
  /** Each read route once, answered 200 (429 and 503 cases below). */
  const reads: Array<Omit<Case, 'name' | 'on' | 'status'>> = [
    ...insightRoutes.map((path) => ({
      path,
      method: 'get' as const,
      request: { url: `${path}?${day}`, headers: dashboard },
    })),
    { path: '/v1/admin/insights/identity', method: 'get', request: { headers: dashboard } },
    {
      path: '/v1/admin/users/{userId}',
      method: 'get',
      request: { url: '/v1/admin/users/u-3', headers: dashboard },
    },
    {
      path: '/v1/admin/users/{userId}/export',
      method: 'get',
      request: { url: '/v1/admin/users/u-3/export', headers: dashboard },
    },
    {
      path: '/v1/admin/export/pageviews',
      method: 'get',
      request: { url: `/v1/admin/export/pageviews?${day}`, headers: dashboard },
    },
    { path: '/v1/admin/audit', method: 'get', request: { headers: admin } },
  ];
  const cases: Case[] = [
    // POST /v1/events
    {
      name: 'JSON page views',
      path: '/v1/events',
      method: 'post',
      status: 202,
      request: { payload: eventsBody(2) },
    },
    {
      name: 'a text/plain beacon',
      path: '/v1/events',
      method: 'post',
      status: 202,
      request: {
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify(eventsBody(1, { deviceId: deviceId() })),
      },
    },
    {
      name: 'a __proto__ key',
      path: '/v1/events',
      method: 'post',
      status: 400,
      request: { headers: { 'content-type': 'application/json' }, payload: '{"__proto__":{},"events":[]}' },
    },
    {
      name: 'a refused origin',
      path: '/v1/events',
      method: 'post',
      status: 403,
      request: { headers: { origin: 'https://evil.test' }, payload: eventsBody(1) },
    },
    {
      name: 'a 65 KiB body',
      path: '/v1/events',
      method: 'post',
      status: 413,
      request: { headers: { 'content-type': 'text/plain' }, payload: 'x'.repeat(65 * 1024) },
    },
    {
      name: 'an XML body',
      path: '/v1/events',
      method: 'post',
      status: 415,
      request: { headers: { 'content-type': 'application/xml' }, payload: '<events/>' },
    },
    // POST /v1/identify
    {
      name: 'a valid token',
      path: '/v1/identify',
      method: 'post',
      status: 200,
      request: { headers: { authorization: userToken(), 'x-device-fingerprint': known } },
    },
    {
      name: 'a malformed JSON body',
      path: '/v1/identify',
      method: 'post',
      status: 400,
      request: { headers: { authorization: userToken(), 'content-type': 'application/json' }, payload: '{x' },
    },
    { name: 'no token', path: '/v1/identify', method: 'post', status: 401, request: {} },
    {
      name: 'a sub with a right-to-left override',
      path: '/v1/identify',
      method: 'post',
      status: 401,
      request: { headers: { authorization: userToken('evil\u202egnp.exe') } },
    },
    {
      name: 'an XML body',
      path: '/v1/identify',
      method: 'post',
      status: 415,
      request: {
        headers: { authorization: userToken(), 'content-type': 'application/xml' },
        payload: '<x/>',
      },
    },
    // POST /v1/device/fingerprint
    {
      name: 'evidence of a device',
      path: '/v1/device/fingerprint',
      method: 'post',
      status: 202,
      request: { headers: { 'x-device-fingerprint': deviceId() }, payload: { visitorId: 'conformance' } },
    },
    {
      name: 'no visitorId',
      path: '/v1/device/fingerprint',
      method: 'post',
      status: 400,
      request: { headers: { 'x-device-fingerprint': deviceId() }, payload: {} },
    },
    {
      name: 'a 65 KiB body',
      path: '/v1/device/fingerprint',
      method: 'post',
      status: 413,
      request: { payload: { visitorId: 'x'.repeat(65 * 1024) } },
    },
    {
      name: 'an XML body',
      path: '/v1/device/fingerprint',
      method: 'post',
      status: 415,
      request: { headers: { 'content-type': 'application/xml' }, payload: '<x/>' },
    },
    // DELETE /v1/device/cookie, /v1/device/recovery, /v1/device
    {
      name: 'a reset',
      path: '/v1/device/cookie',
      method: 'delete',
      status: 204,
      request: { cookies: { device_fp: deviceId() } },
    },
    {
      name: 'consent withdrawn',
      path: '/v1/device/recovery',
      method: 'delete',
      status: 204,
      request: { headers: { 'x-device-fingerprint': deviceId() } },
    },
    {
      name: 'a browser erasing itself',
      path: '/v1/device',
      method: 'delete',
      status: 204,
      request: { headers: { 'x-device-fingerprint': deviceId() } },
    },
    // GET /v1/admin/devices/{deviceId}
    {
      name: 'a known device',
      path: '/v1/admin/devices/{deviceId}',
      method: 'get',
      status: 200,
      request: { url: `/v1/admin/devices/${known}`, headers: admin },
    },
    {
      name: 'an invalid id',
      path: '/v1/admin/devices/{deviceId}',
      method: 'get',
      status: 400,
      request: { url: '/v1/admin/devices/short', headers: admin },
    },
    {
      name: 'no token',
      path: '/v1/admin/devices/{deviceId}',
      method: 'get',
      status: 401,
      request: { url: `/v1/admin/devices/${known}` },
    },
    {
      name: 'an unknown device',
      path: '/v1/admin/devices/{deviceId}',
      method: 'get',
      status: 404,
      request: { url: `/v1/admin/devices/${deviceId()}`, headers: admin },
    },
    {
      name: 'a 400-character id',
      path: '/v1/admin/devices/{deviceId}',
      method: 'get',
      status: 414,
      request: { url: `/v1/admin/devices/${long}`, headers: admin },
    },
    // DELETE /v1/admin/devices/{deviceId}
    {
      name: 'an erasure',
      path: '/v1/admin/devices/{deviceId}',
      method: 'delete',
      status: 204,
      request: { url: `/v1/admin/devices/${deviceId()}`, headers: admin },
    },
    {
      name: 'an invalid id',
      path: '/v1/admin/devices/{deviceId}',
      method: 'delete',
      status: 400,
      request: { url: '/v1/admin/devices/short', headers: admin },
    },
    {
      name: 'a wrong token',
      path: '/v1/admin/devices/{deviceId}',
      method: 'delete',
      status: 401,
      request: { url: `/v1/admin/devices/${deviceId()}`, headers: { authorization: 'Bearer wrong' } },
    },
    {
      name: 'a 400-character id',
      path: '/v1/admin/devices/{deviceId}',
      method: 'delete',
      status: 414,
      request: { url: `/v1/admin/devices/${long}`, headers: admin },
    },
    // DELETE /v1/admin/users/{userId}
    {
      name: 'an erasure',
      path: '/v1/admin/users/{userId}',
      method: 'delete',
      status: 204,
      request: { url: '/v1/admin/users/nobody-42', headers: admin },
    },
    {
      name: 'a user id with a bidi isolate',
      path: '/v1/admin/users/{userId}',
      method: 'delete',
      status: 400,
      request: { url: `/v1/admin/users/${encodeURIComponent('a\u2066b')}`, headers: admin },
    },
    {
      name: 'no token',
      path: '/v1/admin/users/{userId}',
      method: 'delete',
      status: 401,
      request: { url: '/v1/admin/users/nobody-42' },
    },
    {
      name: 'a 400-character id',
      path: '/v1/admin/users/{userId}',
      method: 'delete',
      status: 414,
      request: { url: `/v1/admin/users/${long}`, headers: admin },
    },
    // GET /v1/admin/stats
    {
      name: 'a window',
      path: '/v1/admin/stats',
      method: 'get',
      status: 200,
      request: { url: '/v1/admin/stats?from=2026-01-01&to=2026-02-01', headers: admin },
    },
    {
      name: 'an inverted window',
      path: '/v1/admin/stats',
      method: 'get',
      status: 400,
      request: { url: '/v1/admin/stats?from=2026-02-01&to=2026-01-01', headers: admin },
    },
    {
      name: 'no token',
      path: '/v1/admin/stats',
      method: 'get',
      status: 401,
      request: { url: '/v1/admin/stats?from=2026-01-01&to=2026-02-01' },
    },
    // GET /v1/admin/dead-letters, POST /v1/admin/dead-letters/replay
    {
      name: 'a page',
      path: '/v1/admin/dead-letters',
      method: 'get',
      status: 200,
      request: { url: '/v1/admin/dead-letters?limit=10', headers: admin },
    },
    {
      name: 'a malformed cursor',
      path: '/v1/admin/dead-letters',
      method: 'get',
      status: 400,
      request: { url: '/v1/admin/dead-letters?after=nope', headers: admin },
    },
    {
      name: 'no token',
      path: '/v1/admin/dead-letters',
      method: 'get',
      status: 401,
      request: { url: '/v1/admin/dead-letters' },
    },
    {
      name: 'a replay of nothing',
      path: '/v1/admin/dead-letters/replay',
      method: 'post',
      status: 200,
      request: { headers: admin, payload: { limit: 10 } },
    },
    {
      name: 'a limit out of range',
      path: '/v1/admin/dead-letters/replay',
      method: 'post',
      status: 400,
      request: { headers: admin, payload: { limit: 0 } },
    },
    {
      name: 'no token',
      path: '/v1/admin/dead-letters/replay',
      method: 'post',
      status: 401,
      request: { payload: { limit: 1 } },
    },
    // The read-only dashboard token on admin-only routes: 403.
    {
      name: 'the dashboard token',
      path: '/v1/admin/devices/{deviceId}',
      method: 'delete',
      status: 403,
      request: { url: `/v1/admin/devices/${deviceId()}`, headers: dashboard },
    },
    {
      name: 'the dashboard token',
      path: '/v1/admin/users/{userId}',
      method: 'delete',
      status: 403,
      request: { url: '/v1/admin/users/nobody-42', headers: dashboard },
    },
    {
      name: 'the dashboard token',
      path: '/v1/admin/stats',
      method: 'get',
      status: 403,
      request: { url: '/v1/admin/stats?from=2026-01-01&to=2026-02-01', headers: dashboard },
    },
    {
      name: 'the dashboard token',
      path: '/v1/admin/dead-letters',
      method: 'get',
      status: 403,
      request: { url: '/v1/admin/dead-letters', headers: dashboard },
    },
    {
      name: 'the dashboard token',
      path: '/v1/admin/dead-letters/replay',
      method: 'post',
      status: 403,
      request: { headers: dashboard, payload: { limit: 1 } },
    },
    {
      name: 'the dashboard token reads the detail',
      path: '/v1/admin/devices/{deviceId}',
      method: 'get',
      status: 200,
      request: { url: `/v1/admin/devices/${known}`, headers: dashboard },
    },
    // Read routes (either token)
    ...insightRoutes.flatMap((path): Case[] => [
      {
        name: 'a day',
        path,
        method: 'get',
        status: 200,
        request: { url: `${path}?${day}`, headers: dashboard },
      },
      {
        name: 'an inverted range',
        path,
        method: 'get',
        status: 400,
        request: { url: `${path}?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, headers: admin },
      },
      { name: 'no token', path, method: 'get', status: 401, request: { url: `${path}?${day}` } },
    ]),
    {
      name: 'the figures now',
      path: '/v1/admin/insights/identity',
      method: 'get',
      status: 200,
      request: { headers: dashboard },
    },
    {
      name: 'a wrong token',
      path: '/v1/admin/insights/identity',
      method: 'get',
      status: 401,
      request: { headers: { authorization: 'Bearer wrong' } },
    },
    ...(['/v1/admin/users/{userId}', '/v1/admin/users/{userId}/export'] as const).flatMap((path): Case[] => {
      const url = (id: string) => path.replace('{userId}', id);
      return [
        {
          name: 'a user',
          path,
          method: 'get',
          status: 200,
          request: { url: url('nobody-42'), headers: dashboard },
        },
        {
          name: 'a user id with a bidi isolate',
          path,
          method: 'get',
          status: 400,
          request: { url: url(encodeURIComponent('a\u2066b')), headers: admin },
        },
        { name: 'no token', path, method: 'get', status: 401, request: { url: url('nobody-42') } },
        {
          name: 'a 400-character id',
          path,
          method: 'get',
          status: 414,
          request: { url: url(long), headers: admin },
        },
      ];
    }),
    {
      name: 'NDJSON',
      path: '/v1/admin/export/pageviews',
      method: 'get',
      status: 200,
      request: { url: `/v1/admin/export/pageviews?${day}`, headers: dashboard },
    },
    {
      name: 'CSV',
      path: '/v1/admin/export/pageviews',
      method: 'get',
      status: 200,
      request: { url: `/v1/admin/export/pageviews?${day}`, headers: { ...admin, accept: 'text/csv' } },
    },
    {
      name: 'no range',
      path: '/v1/admin/export/pageviews',
      method: 'get',
      status: 400,
      request: { url: '/v1/admin/export/pageviews', headers: admin },
    },
    {
      name: 'no token',
      path: '/v1/admin/export/pageviews',
      method: 'get',
      status: 401,
      request: { url: `/v1/admin/export/pageviews?${day}` },
    },
    {
      name: 'the log',
      path: '/v1/admin/audit',
      method: 'get',
      status: 200,
      request: { url: '/v1/admin/audit?limit=5', headers: admin },
    },
    {
      name: 'a malformed cursor',
      path: '/v1/admin/audit',
      method: 'get',
      status: 400,
      request: { url: '/v1/admin/audit?cursor=nope', headers: admin },
    },
    { name: 'no token', path: '/v1/admin/audit', method: 'get', status: 401, request: {} },
    {
      name: 'the dashboard token',
      path: '/v1/admin/audit',
      method: 'get',
      status: 403,
      request: { headers: dashboard },
    },
    // Operations
    { name: 'alive', path: '/healthz', method: 'get', status: 200, request: {} },
    { name: 'ready', path: '/readyz', method: 'get', status: 200, request: {} },
    {
      name: 'a scrape with the token',
      path: '/metrics',
      method: 'get',
      status: 200,
      request: { headers: { authorization: `Bearer ${METRICS_TOKEN}` } },
    },
    { name: 'a scrape without the token', path: '/metrics', method: 'get', status: 401, request: {} },
  ];

  // 429: the second request of a minute on the collector limited to one a minute.
  const stats = '/v1/admin/stats?from=2026-01-01&to=2026-02-01';
  const limited: Array<Omit<Case, 'name' | 'on'>> = [
    {
      path: '/v1/events',
      method: 'post',
      status: 202,
      request: { headers: { 'x-device-fingerprint': known }, payload: eventsBody(1) },
    },
    {
      path: '/v1/identify',
      method: 'post',
      status: 200,
      request: { headers: { authorization: userToken(), 'x-device-fingerprint': known } },
    },
    {
      path: '/v1/admin/devices/{deviceId}',
      method: 'get',
      status: 404,
      request: { url: `/v1/admin/devices/${deviceId()}`, headers: admin },
    },
    {
      path: '/v1/admin/devices/{deviceId}',
      method: 'delete',
      status: 204,
      request: { url: `/v1/admin/devices/${deviceId()}`, headers: admin },
    },
    {
      path: '/v1/admin/users/{userId}',
      method: 'delete',
      status: 204,
      request: { url: '/v1/admin/users/u-1', headers: admin },
    },
    { path: '/v1/admin/stats', method: 'get', status: 200, request: { url: stats, headers: admin } },
    {
      path: '/v1/admin/dead-letters',
      method: 'get',
      status: 200,
      request: { url: '/v1/admin/dead-letters', headers: admin },
    },
    {
      path: '/v1/admin/dead-letters/replay',
      method: 'post',
      status: 200,
      request: { headers: admin, payload: { limit: 1 } },
    },
    {
      path: '/v1/device/fingerprint',
      method: 'post',
      status: 202,
      request: { headers: { 'x-device-fingerprint': known }, payload: { visitorId: 'limited' } },
    },
    { path: '/v1/device/cookie', method: 'delete', status: 204, request: {} },
    {
      path: '/v1/device/recovery',
      method: 'delete',
      status: 204,
      request: { headers: { 'x-device-fingerprint': known } },
    },
    {
      path: '/v1/device',
      method: 'delete',
      status: 204,
      request: { headers: { 'x-device-fingerprint': deviceId() } },
    },
  ];
  limited.push(...reads.map((c) => ({ ...c, status: 200 })));
  // The ingest routes: the second request of the minute is refused. The admin and read routes count
  // failed authentications only, one counter per address for all of them (1 a minute here): the first
  // wrong token is a 401, every later one a 429, and a valid token still passes after them.
  const wrong = { authorization: 'Bearer not-the-admin-token-0123456789abcdef' };
  cases.push({
    name: 'the address’s first failed authentication',
    path: '/v1/admin/stats',
    method: 'get',
    status: 401,
    request: { url: stats, headers: wrong },
    on: 'limited',
  });
  for (const c of limited) {
    if (c.path.startsWith('/v1/admin/')) {
      const headers = { ...(c.request.headers as Record<string, string>), ...wrong };
      cases.push({
        ...c,
        name: 'a wrong token past the failed-authentication limit',
        status: 429,
        request: { ...c.request, headers },
        on: 'limited',
      });
      cases.push({ ...c, name: 'a valid token from the same address, past that limit', on: 'limited' });
    } else {
      cases.push({ ...c, name: 'the first request of the minute', on: 'limited' });
      cases.push({ ...c, name: 'a second request in the minute', status: 429, on: 'limited' });
    }
  }
  cases.push({
    name: 'a wrong token past the failed-authentication limit',
    path: '/metrics',
    method: 'get',
    status: 429,
    request: { headers: wrong },
    on: 'limited',
  });

  // 503: Redis and Postgres cut (run last).
  const down: Array<Omit<Case, 'name' | 'status' | 'on'>> = [
    {
      path: '/v1/events',
      method: 'post',
      request: { headers: { 'x-device-fingerprint': known }, payload: eventsBody(1) },
    },
    {
      path: '/v1/identify',
      method: 'post',
      request: { headers: { authorization: userToken(), 'x-device-fingerprint': known } },
    },
    {
      path: '/v1/admin/devices/{deviceId}',
      method: 'get',
      request: { url: `/v1/admin/devices/${known}`, headers: admin },
    },
    {
      path: '/v1/admin/devices/{deviceId}',
      method: 'delete',
      request: { url: `/v1/admin/devices/${known}`, headers: admin },
    },
    {
      path: '/v1/admin/users/{userId}',
      method: 'delete',
      request: { url: '/v1/admin/users/u-2', headers: admin },
    },
    { path: '/v1/admin/stats', method: 'get', request: { url: stats, headers: admin } },
    {
      path: '/v1/admin/dead-letters',
      method: 'get',
      request: { url: '/v1/admin/dead-letters', headers: admin },
    },
    {
      path: '/v1/admin/dead-letters/replay',
      method: 'post',
      request: { headers: admin, payload: { limit: 1 } },
    },
    {
      path: '/v1/device/fingerprint',
      method: 'post',
      request: { headers: { 'x-device-fingerprint': deviceId() }, payload: { visitorId: 'down' } },
    },
    {
      path: '/v1/device/recovery',
      method: 'delete',
      request: { headers: { 'x-device-fingerprint': known } },
    },
    { path: '/v1/device', method: 'delete', request: { headers: { 'x-device-fingerprint': deviceId() } } },
    { path: '/readyz', method: 'get', request: {} },
    ...reads,
  ];
  for (const c of down) cases.push({ ...c, name: 'Redis and Postgres unreachable', status: 503, on: 'down' });

  const answered = new Set<string>();
  let outage = false;

  /** Checks the answer against the document; returns the problems found. */
  function conformance(c: Case, status: number, contentType: string | undefined, body: string): string[] {
    const operation = doc.paths[c.path]?.[c.method];
    if (!operation) return [`${c.method.toUpperCase()} ${c.path} is not documented`];
    const response = operation.responses[String(status)];
    if (!response)
      return [`status ${status} is not documented (${Object.keys(operation.responses).join(', ')})`];
    if (!response.content)
      return body === '' ? [] : [`status ${status} documents no body, got ${body.slice(0, 80)}`];
    const type = (contentType ?? '').split(';')[0]!.trim();
    const media = Object.entries(response.content).find(([k]) => k.split(';')[0]!.trim() === type)?.[1];
    if (!media?.schema) return [`content type ${contentType} of ${status} is not documented`];
    const value = type === 'application/json' ? JSON.parse(body) : body;
    const validate = ajv.compile(media.schema);
    return validate(value)
      ? []
      : [`body does not match: ${ajv.errorsText(validate.errors)} in ${body.slice(0, 200)}`];
  }

  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);

  it.each(cases.map((c) => [`${c.method.toUpperCase()} ${c.path}: ${c.name} -> ${c.status}`, c] as const))(
    '%s',
    async (_title, c) => {
      if (c.on === 'down' && !outage) {
        // Closed, not cut: connections are refused at once (a cut proxy accepts and drops them, and
        // the clients' retries then take longer than a test).
        outage = true;
        await Promise.all([redisProxy.close(), pgProxy.close()]);
        // /readyz answers from its background probes: wait for the round that sees the outage.
        await waitFor(async () => (await apps.down.inject({ url: '/readyz' })).statusCode === 503, {
          what: 'readyz seeing the outage',
        });
      }
      const app = apps[c.on ?? 'main'];
      const res = await app.inject({
        method: c.method.toUpperCase() as 'GET',
        url: c.request.url ?? c.path,
        ...c.request,
      });
      expect(res.statusCode, res.body).toBe(c.status);
      expect(
        conformance(c, res.statusCode, res.headers['content-type'] as string | undefined, res.body),
      ).toEqual([]);
      answered.add(`${c.method} ${c.path} ${res.statusCode}`);
    },
  );

  it("documents the events body with the protocol's schema, which events-schema.test.ts holds the parser to", () => {
    const content = (
      doc.paths['/v1/events'] as unknown as {
        post: { requestBody: { content: Record<string, { schema: unknown }> } };
      }
    ).post.requestBody.content;
    const schema = JSON.parse(JSON.stringify(EVENTS_BODY_SCHEMA));
    expect(content['application/json']?.schema).toEqual(schema);
    expect(content['text/plain']?.schema).toEqual(schema);
  });

  it('tags every operation with one of the document’s tags, and leaves no tag empty', () => {
    const declared = ((doc as { tags?: Array<{ name: string }> }).tags ?? []).map((t) => t.name);
    const used = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const tags = (operation as { tags?: string[] }).tags ?? [];
        expect(tags, `${method} ${path}`).toHaveLength(1);
        expect(declared).toContain(tags[0]);
        used.add(tags[0]!);
      }
    }
    expect([...used].sort()).toEqual([...declared].sort());
  });

  it('covers every status of every documented route', () => {
    const documented: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const status of Object.keys(operation.responses)) documented.push(`${method} ${path} ${status}`);
      }
    }
    expect(documented.filter((d) => !answered.has(d))).toEqual([]);
  });
});
