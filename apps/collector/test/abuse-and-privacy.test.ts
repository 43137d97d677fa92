import { hasServices, type TestServices, waitFor } from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/collector-config.js';
import { ADMIN_TOKEN, deviceId, eventsBody } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';
import { storedKeys } from './support/service-env.js';

const SECRET = 'privacy-test-secret-that-is-long-enough';
// Documentation addresses (RFC 5737 / 3849): nothing else in a run carries them.
const CLIENT_IP = '203.0.113.77';
const CLIENT_IP6 = '2001:db8::7';

describe.runIf(hasServices('redis', 'postgres'))('abuse limits and data hygiene', () => {
  function environment(
    services: TestServices,
    cleanup: (fn: () => unknown) => void,
    extra: Record<string, string> = {},
  ) {
    const logs: string[] = [];
    const { prefix } = services;
    const env = {
      ...services.env,
      ADMIN_TOKEN,
      JWT_SECRET: SECRET,
      QUEUE_PARTITIONS: '4',
      LOG_LEVEL: 'debug',
      ...extra,
    };
    const start = async () => {
      const app = await buildApp(loadConfig(env), { logStream: { write: (line) => logs.push(line) } });
      cleanup(() => app.close());
      return app;
    };
    /** Every key of the prefix and everything stored under it, as text. */
    const dump = async () =>
      (await storedKeys(services.redis!, prefix)).map((k) => `${k.key} ${JSON.stringify(k.content)}`);
    /** Two collectors on the same Redis and Postgres. */
    const startPair = async () => [await start(), await start()] as const;
    return { env, client: services.database!.client, start, startPair, dump, logs, prefix };
  }

  const send = (app: FastifyInstance, headers: Record<string, string> = {}, remoteAddress = CLIENT_IP) =>
    app.inject({ method: 'POST', url: '/v1/events', headers, payload: eventsBody(1), remoteAddress });

  test('answers 429 with Retry-After and DL_RATE_LIMITED once a device uses up its minute, counted across two collectors on one Redis', async ({
    services,
    cleanup,
  }) => {
    const e = environment(services, cleanup, { RATE_LIMIT_PER_MINUTE: '4' });
    const [a, b] = await e.startPair();
    const d = deviceId();
    const statuses: number[] = [];
    for (const app of [a, b, a, b])
      statuses.push((await send(app, { 'x-device-fingerprint': d })).statusCode);
    expect(statuses).toEqual([202, 202, 202, 202]);
    const refused = await send(b, { 'x-device-fingerprint': d });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ statusCode: 429, code: 'DL_RATE_LIMITED' });
    // A refused request mints no id and sets no cookie.
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(refused.headers['x-ratelimit-limit']).toBe('4');
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    // Another device is not affected, and is told where it stands.
    const other = await send(a, { 'x-device-fingerprint': deviceId() });
    expect(other.statusCode).toBe(202);
    expect(other.headers['x-ratelimit-limit']).toBe('4');
    expect(other.headers['x-ratelimit-remaining']).toBe('3');
    expect(Number(other.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    // The same device in the cookie counts against the same limit.
    expect((await send(a, { cookie: `device_fp=${d}` })).statusCode).toBe(429);
  });

  test('holds the per-address limit (10 times the device limit) across two collectors for a client sending a fresh device id each request', async ({
    services,
    cleanup,
  }) => {
    const e = environment(services, cleanup, { RATE_LIMIT_PER_MINUTE: '2' });
    const [a, b] = await e.startPair();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      statuses.push((await send(i % 2 ? b : a, { 'x-device-fingerprint': deviceId() })).statusCode);
    }
    expect(statuses.slice(0, 20).every((s) => s === 202)).toBe(true);
    const refused = await send(b, { 'x-device-fingerprint': deviceId() });
    expect([statuses[20], refused.statusCode]).toEqual([429, 429]);
    expect(refused.json().message).toMatch(/from this address/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  test('limits new device ids per address and per network (NEW_IDS_*), never the page views of known ids', async ({
    services,
    cleanup,
  }) => {
    const e = environment(services, cleanup, { NEW_IDS_PER_ADDRESS: '3', NEW_IDS_PER_NETWORK: '5' });
    const [a, b] = await e.startPair();
    const known = [deviceId(), deviceId(), deviceId()];
    for (const [i, d] of known.entries()) {
      expect((await send(i % 2 ? b : a, { 'x-device-fingerprint': d })).statusCode).toBe(202);
    }
    const refused = await send(a, { 'x-device-fingerprint': deviceId() });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'DL_RATE_LIMITED' });
    expect(refused.json().message).toMatch(/new device ids from this network/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    for (const d of known) expect((await send(b, { 'x-device-fingerprint': d })).statusCode).toBe(202);
    // IPv6: ids spread over the /64s of one /48 meet its limit of 5.
    const spread: number[] = [];
    for (let i = 0; i < 6; i++) {
      spread.push((await send(a, { 'x-device-fingerprint': deviceId() }, `2001:db8:77:${i}::1`)).statusCode);
    }
    expect(spread).toEqual([202, 202, 202, 202, 202, 429]);
  });

  test('limits clients without a device id by their hashed address, and no Redis key, value or log line holds the address or a token', async ({
    services,
    cleanup,
  }) => {
    const e = environment(services, cleanup, { RATE_LIMIT_PER_MINUTE: '3' });
    const [a, b] = await e.startPair();
    const token = signJwt('HS256', claims({ sub: 'privacy-user' }), SECRET);
    const statuses: number[] = [];
    for (const app of [a, b, a, b]) statuses.push((await send(app)).statusCode);
    expect(statuses).toEqual([202, 202, 202, 429]);
    // Another address still gets in.
    expect((await send(a, {}, CLIENT_IP6)).statusCode).toBe(202);
    // Requests carrying secrets in every place they could leak from.
    await a.inject({
      method: 'POST',
      url: `/v1/identify?token=${token}`,
      headers: { authorization: `Bearer ${token}`, 'x-device-fingerprint': deviceId() },
      remoteAddress: CLIENT_IP6,
    });
    await a.inject({
      url: `/v1/admin/devices/${deviceId()}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      remoteAddress: CLIENT_IP6,
    });
    await a.inject({
      url: '/v1/admin/stats?from=bad',
      headers: { authorization: 'Bearer wrong-admin-token-zz9' },
      remoteAddress: CLIENT_IP6,
    });
    await waitFor(
      async () => (await e.client.query('select count(*)::int as n from page_views')).rows[0].n === 4,
      {
        what: 'page views persisted',
      },
    );

    const stored = (await e.dump()).join('\n');
    expect(stored).toMatch(/:r:(events|identify):|:r:ip:/);
    expect(e.logs.length).toBeGreaterThan(5);
    const logText = e.logs.join('');
    for (const secret of [CLIENT_IP, CLIENT_IP6, token, ADMIN_TOKEN, 'wrong-admin-token-zz9']) {
      expect(stored, secret).not.toContain(secret);
      expect(logText, secret).not.toContain(secret);
    }
    const rows = (await e.client.query('select * from sessions')).rows;
    expect(JSON.stringify(rows)).not.toContain(CLIENT_IP);
  });

  test('stores URLs without the fragment, with only allowlisted query parameters, and the referrer as its origin', async ({
    services,
    cleanup,
  }) => {
    const e = environment(services, cleanup, { QUERY_ALLOWLIST: 'utm_source,ref' });
    const app = await e.start();
    const d = deviceId();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': d },
      payload: {
        events: [
          { type: 'pageview', url: 'https://shop.test/cart#step-2' },
          {
            type: 'pageview',
            url: 'https://shop.test/p?utm_source=news&email=a%40b.test&ref=x&utm_medium=mail&session=secret',
          },
          {
            type: 'pageview',
            url: 'https://shop.test/q',
            referrer: 'https://search.test/results?q=my+name#top',
          },
        ],
      },
    });
    expect(res.json()).toMatchObject({ accepted: 3 });
    const rows = await waitFor(
      async () => {
        const r = await e.client.query(
          'select url, referrer from page_views where device_id = $1 order by url',
          [d],
        );
        return r.rows.length === 3 ? r.rows : null;
      },
      { what: 'three page views' },
    );
    expect(rows).toEqual([
      { url: 'https://shop.test/cart', referrer: null },
      { url: 'https://shop.test/p?utm_source=news&ref=x', referrer: null },
      { url: 'https://shop.test/q', referrer: 'https://search.test' },
    ]);
  });

  test('Sec-GPC: 1 and denied consent track nothing and clear a cookie the browser sent', async ({
    services,
    cleanup,
  }) => {
    const e = environment(services, cleanup);
    const app = await e.start();
    const d = deviceId();
    const signals: Array<Record<string, string>> = [{ 'sec-gpc': '1' }, { 'x-device-consent': 'denied' }];
    for (const headers of signals) {
      const res = await send(app, { ...headers, cookie: `device_fp=${d}` });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ accepted: 0, tracked: false });
      expect(res.headers['x-device-fingerprint']).toBeUndefined();
      expect(String(res.headers['set-cookie'])).toMatch(/^device_fp=; Max-Age=0/);
    }
    // Without a cookie there is nothing to clear.
    expect((await send(app, { 'sec-gpc': '1' })).headers['set-cookie']).toBeUndefined();
    const depth = await Promise.all(
      Array.from({ length: 4 }, (_, p) => app.collector.resources.store.depth(p)),
    );
    expect(depth.every((n) => n === 0)).toBe(true);
    expect(await app.collector.resources.store.session(d)).toBeNull();
  });
});
