/**
 * The HTTP hardening (docs/protocol.md, HTTP API of the collector): body consent without case,
 * one parser for JSON and beacons, `/metrics` on its own port, request logs without ids or 4xx stacks,
 * rate-limit key names and ISO times (the one-line start-up errors: startup-errors.test.ts).
 */
import { createTestDatabase, hasServices, testEnv, uniquePrefix } from '@devicelink/test-env';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/collector-config.js';
import { ADMIN_TOKEN, deviceId, eventsBody, sendPageviews, tempDataDir } from './support/collector.js';

describe('the embedded collector', () => {
  const data = tempDataDir();
  const logs: string[] = [];
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp(
      loadConfig({
        DATA_DIR: data.dir,
        ADMIN_TOKEN,
        DEBUG_ROUTES: 'true',
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      }),
      { logStream: { write: (line) => logs.push(line) } },
    );
  });
  afterAll(async () => {
    await app.close();
    data.remove();
  });

  it.each(['DENIED', 'Denied', ' denied '])(
    'reads body consent %j as denied, like the header',
    async (consent) => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: eventsBody(1, { consent }),
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ accepted: 0, tracked: false });
      expect(res.headers['set-cookie']).toBeUndefined();
    },
  );

  it('answers a JSON body and the same text as a beacon alike, whatever the text', async () => {
    const poison = fc.constantFrom(
      '{"__proto__":{}}',
      '{"constructor":{"prototype":{}}}',
      '{"a":{"__proto__":1}}',
    );
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.json({ maxDepth: 3 }),
      fc.tuple(fc.json({ maxDepth: 2 }), poison).map(([j, p]) => `{"x":${j},"y":${p},"events":[]}`),
    );
    await fc.assert(
      fc.asyncProperty(text, async (payload) => {
        const answers = [];
        for (const type of ['application/json', 'text/plain']) {
          const res = await app.inject({
            method: 'POST',
            url: '/v1/events',
            headers: { 'content-type': type },
            payload,
          });
          expect(res.statusCode).toBeLessThan(500);
          answers.push({ status: res.statusCode, code: res.statusCode >= 400 ? res.json().code : null });
        }
        expect(answers[1]).toEqual(answers[0]);
      }),
      { numRuns: 60 },
    );
  });

  it('serves /metrics on the metrics port only when METRICS_PORT is set', async () => {
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404);
    const metrics = await app.collector.metricsApp!.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('answers the live session with ISO 8601 times', async () => {
    const d = deviceId();
    await sendPageviews(app, d, 1);
    const session = (await app.inject({ url: '/v1/session', headers: { 'x-device-fingerprint': d } })).json();
    expect(session.session.firstSeen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const admin = (
      await app.inject({ url: `/v1/admin/devices/${d}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json();
    expect(admin.liveSession.lastSeen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('logs an admin request by its route pattern, and a refused one on one info line without a stack', async () => {
    const user = `erased-user-${deviceId()}`;
    logs.length = 0;
    const res = await app.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${user}`,
      headers: { authorization: 'Bearer no' },
    });
    expect(res.statusCode).toBe(401);
    const text = logs.join('');
    expect(text).not.toContain(user);
    expect(text).toContain('/v1/admin/users/:userId');
    expect(text).not.toContain('"stack"');
    const lines = logs.map((l) => JSON.parse(l)).filter((l) => l.req);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'request refused',
        level: 30,
        code: 'DL_ADMIN_UNAUTHORIZED',
        res: { statusCode: 401 },
      }),
    ]);
  });
});

describe.runIf(hasServices('redis', 'postgres'))('with Redis', () => {
  it('names rate-limit keys by address, never "undefined": the ingest limits beside the store, the failed-authentication limit under rl:auth:', async () => {
    const data = tempDataDir();
    const prefix = uniquePrefix('rlkeys');
    // A database of its own: the shared one may carry another checkout's migrations.
    const database = await createTestDatabase('rlkeys');
    const redis = new Redis(testEnv.redisUrl!);
    const app = await buildApp(
      loadConfig({
        DATA_DIR: data.dir,
        REDIS_URL: testEnv.redisUrl!,
        DATABASE_URL: database.url,
        REDIS_KEY_PREFIX: prefix,
        PERSISTER: 'off',
        ADMIN_TOKEN,
        LOG_LEVEL: 'silent',
      }),
      { logger: false },
    );
    try {
      await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'x-device-fingerprint': deviceId() },
        payload: eventsBody(1),
      });
      await app.inject({
        url: '/v1/admin/stats?from=2026-01-01&to=2026-01-02',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      // Only a failed authentication is counted, under one key per address for every admin route.
      for (const url of ['/v1/admin/stats?from=2026-01-01&to=2026-01-02', '/v1/admin/audit']) {
        await app.inject({ url, headers: { authorization: 'Bearer wrong' } });
      }
      const keys = (await redis.keys(`${prefix}*`))
        .map((k) =>
          k
            .slice(prefix.length)
            .replace(/^\{p\d+\}:/, '{pN}:')
            .replace(/:[A-Za-z0-9_-]{22}$|:[A-Za-z0-9_-]{43}$/, ':<hash>'),
        )
        .filter((k) => k.startsWith('rl:') || k.startsWith('{pN}:r:'));
      // The ingest counters (device and address) are the store's, counted with the page view, and so
      // are the new-id counters of the address and its /24 (the device was new). The device's own
      // counter is fields of its session hash (`c`, `w`), not a key.
      expect(keys.sort()).toEqual([
        'rl:auth:<hash>',
        '{pN}:r:ip:<hash>',
        '{pN}:r:new:h:<hash>',
        '{pN}:r:new:n:<hash>',
      ]);
    } finally {
      await app.close();
      const all = await redis.keys(`${prefix}*`);
      if (all.length > 0) await redis.unlink(...all);
      redis.disconnect();
      data.remove();
      await database.drop();
    }
  });
});
