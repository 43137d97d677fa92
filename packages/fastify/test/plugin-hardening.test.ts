/**
 * Regression tests of the plugin's hardening: each test is named for what broke.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DEVICE_COOKIE, isValidDeviceId } from '@devicelink/protocol';
import { hasServices, waitFor } from '@devicelink/test-env';
import fastifyCookie from '@fastify/cookie';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  type CookieEdge,
  createMemoryStore,
  isDeviceLinkPluginError,
  QueuePartitionsMismatchError,
} from '../src/index.js';
import { clientDeviceId } from '../src/plugin/client-device-id.js';
import { QueueFullError } from '../src/store/store-errors.js';
import { appendForTest } from '../src/testing.js';
import { buildTestApp, COOKIE_ID, eventsBody, HEADER_ID, setCookies } from './plugin-app.js';
import { redisHarness, useSingleNode } from './redis-harness.js';
import {
  drain,
  type MakeHarness,
  memoryHarness,
  newDeviceId,
  pageview,
  touchInput,
} from './store-harness.js';
import { useTempFiles } from './temp-files.js';

function edgeSuite(name: string, make: () => MakeHarness): void {
  describe(`edge records on ${name}`, () => {
    it('an edge whose other id was erased is not queued (a stale cookie cannot bring an erased id back)', async () => {
      const h = await make()();
      try {
        const erased = newDeviceId();
        const header = newDeviceId();
        await h.store.erase(erased);
        await h.store.recordEdge({ kind: 'cookie', deviceId: header, otherId: erased });
        const edges = (await drain(h.store, header)).filter((e) => e.record.kind === 'edge');
        expect(edges).toEqual([]);
      } finally {
        await h.close();
      }
    });

    it('an edge whose device id was erased is not queued, and a live pair still is', async () => {
      const h = await make()();
      try {
        const erased = newDeviceId();
        const cookie = newDeviceId();
        await h.store.erase(erased);
        await h.store.recordEdge({ kind: 'cookie', deviceId: erased, otherId: cookie });
        expect((await drain(h.store, erased)).filter((e) => e.record.kind === 'edge')).toEqual([]);
        const header = newDeviceId();
        await h.store.recordEdge({ kind: 'cookie', deviceId: header, otherId: cookie });
        const queued = (await drain(h.store, header)).filter((e) => e.record.kind === 'edge');
        expect(queued.map((e) => e.record)).toMatchObject([
          { kind: 'edge', edge: 'cookie', deviceId: header, otherId: cookie },
        ]);
      } finally {
        await h.close();
      }
    });
  });
}

edgeSuite('the memory store', () => memoryHarness);

describe.runIf(hasServices('redis'))('Redis', () => {
  const redis = useSingleNode();
  edgeSuite('Redis', () => redisHarness(redis));
});

/** A host app with a login route as the README shows it (convert with clientDeviceId). */
async function loginApp(): Promise<FastifyInstance> {
  return buildTestApp({}, undefined, {}).then((app) => {
    app.post('/login', async (request) => {
      const deviceId = clientDeviceId(request);
      const result = deviceId === null ? null : await app.devicelink.convert(deviceId, 'user-1');
      return { deviceId, status: result?.status ?? null };
    });
    return app;
  });
}

describe('clientDeviceId (the README login route passed the raw header to convert, which threw: 500)', () => {
  it('a junk X-Device-Fingerprint header (null, guest) gives null and the login answers 200, not 500', async () => {
    const app = await loginApp();
    try {
      for (const junk of ['null', 'guest', '[object Object]', 'short']) {
        const res = await app.inject({
          method: 'POST',
          url: '/login',
          headers: { 'x-device-fingerprint': junk },
        });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ deviceId: null, status: null });
      }
    } finally {
      await app.close();
    }
  });

  it('gives the valid header, else the valid cookie, and converts that device', async () => {
    const app = await loginApp();
    try {
      const both = await app.inject({
        method: 'POST',
        url: '/login',
        headers: { 'x-device-fingerprint': HEADER_ID, cookie: `${DEVICE_COOKIE}=${COOKIE_ID}` },
      });
      expect(both.json()).toEqual({ deviceId: HEADER_ID, status: 'linked' });
      const cookieOnly = await app.inject({
        method: 'POST',
        url: '/login',
        headers: { 'x-device-fingerprint': 'undefined', cookie: `${DEVICE_COOKIE}=${COOKIE_ID}` },
      });
      expect(cookieOnly.json()).toEqual({ deviceId: COOKIE_ID, status: 'linked' });
      const junkCookie = await app.inject({
        method: 'POST',
        url: '/login',
        headers: { cookie: `${DEVICE_COOKIE}=guest` },
      });
      expect(junkCookie.json()).toEqual({ deviceId: null, status: null });
    } finally {
      await app.close();
    }
  });

  it('gives null under X-Device-Consent: denied and under Sec-GPC: 1 unless GPC is not honoured', async () => {
    const app = await loginApp();
    app.post('/login-no-gpc', async (request) => ({
      deviceId: clientDeviceId(request, { honorGpc: false }),
    }));
    try {
      const headers = { 'x-device-fingerprint': HEADER_ID };
      const denied = await app.inject({
        method: 'POST',
        url: '/login',
        headers: { ...headers, 'x-device-consent': 'denied' },
      });
      expect(denied.json()).toEqual({ deviceId: null, status: null });
      const gpc = await app.inject({
        method: 'POST',
        url: '/login',
        headers: { ...headers, 'sec-gpc': '1' },
      });
      expect(gpc.json()).toEqual({ deviceId: null, status: null });
      const noGpc = await app.inject({
        method: 'POST',
        url: '/login-no-gpc',
        headers: { ...headers, 'sec-gpc': '1' },
      });
      expect(noGpc.json()).toEqual({ deviceId: HEADER_ID });
    } finally {
      await app.close();
    }
  });

  it('never throws and gives only null or a valid id, whatever header and cookie arrive', async () => {
    const app = await buildTestApp();
    app.post('/id', async (request) => ({ deviceId: clientDeviceId(request) }));
    try {
      const value = fc.string({
        unit: fc.constantFrom('a', 'A', '0', '_', '-', ' ', ';', '=', '%', 'n'),
        maxLength: 80,
      });
      await fc.assert(
        fc.asyncProperty(value, value, async (header, cookie) => {
          const res = await app.inject({
            method: 'POST',
            url: '/id',
            headers: { 'x-device-fingerprint': header, cookie: `${DEVICE_COOKIE}=${cookie}` },
          });
          expect(res.statusCode).toBe(200);
          const { deviceId } = res.json() as { deviceId: string | null };
          expect(deviceId === null || isValidDeviceId(deviceId)).toBe(true);
        }),
        { numRuns: 60 },
      );
    } finally {
      await app.close();
    }
  });
});

describe("the device cookie under an app's @fastify/cookie parseOptions", () => {
  const withSignedCookies = async (app: FastifyInstance): Promise<void> => {
    await app.register(fastifyCookie, {
      secret: 'a-cookie-secret-of-the-host-app-0123456789',
      parseOptions: { signed: true, domain: 'shop.example' },
    });
  };

  it('an app with parseOptions { signed: true, domain } keeps one unsigned, host-only device_fp (a new id was minted on every request)', async () => {
    const app = await buildTestApp({}, withSignedCookies);
    try {
      const first = await app.inject({ method: 'POST', url: '/v1/events', payload: eventsBody() });
      const [cookie] = setCookies(first.headers);
      const id = first.headers['x-device-fingerprint'] as string;
      expect(cookie).toMatch(new RegExp(`^${DEVICE_COOKIE}=${id};`));
      expect(cookie).not.toMatch(/Domain=/i);
      const second = await app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: eventsBody(),
        headers: { cookie: `${DEVICE_COOKIE}=${id}` },
      });
      expect(second.headers['x-device-fingerprint']).toBe(id);
      expect(second.json()).toMatchObject({ source: 'cookie', deviceId: id });
      expect(setCookies(second.headers)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it("consent denied clears the cookie without the app's domain", async () => {
    const app = await buildTestApp({}, withSignedCookies);
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: eventsBody(),
        headers: { cookie: `${DEVICE_COOKIE}=${COOKIE_ID}`, 'x-device-consent': 'denied' },
      });
      const [cleared] = setCookies(res.headers);
      expect(cleared).toMatch(new RegExp(`^${DEVICE_COOKIE}=;`));
      expect(cleared).not.toMatch(/Domain=/i);
    } finally {
      await app.close();
    }
  });
});

describe('the embedded queue', () => {
  const files = useTempFiles('hardening');
  const journal = () => files('queue.jsonl');

  it('is bounded by maxQueued: beyond it a touch throws QueueFullError and counts nothing (it grew until out of memory)', async () => {
    const stores = createMemoryStore({ maxQueued: 3, partitions: 1 });
    try {
      const deviceId = newDeviceId();
      await stores.touch(touchInput(deviceId, [pageview(), pageview()]));
      const refused = stores.touch(touchInput(deviceId, [pageview(), pageview()]));
      await expect(refused).rejects.toBeInstanceOf(QueueFullError);
      expect((await stores.session(deviceId))?.pagesVisited).toBe(2);
      await stores.touch(touchInput(deviceId));
      await expect(stores.touch(touchInput(deviceId))).rejects.toSatisfy(isDeviceLinkPluginError);
      expect((await stores.session(deviceId))?.pagesVisited).toBe(3);
      await expect(
        appendForTest(stores, 'k', [{ kind: 'erase-user', userId: 'u', ts: 0 }]),
      ).rejects.toBeInstanceOf(QueueFullError);
      // Erasure is always taken, and once the persister acknowledges, page views are accepted again.
      await stores.erase(newDeviceId());
      const entries = await stores.read(0, 'c', 10);
      await stores.ack(
        0,
        entries.map((e) => e.id),
      );
      await expect(stores.touch(touchInput(deviceId))).resolves.toMatchObject({
        status: 'ok',
        accepted: 1,
      });
    } finally {
      await stores.close();
    }
  });

  it('a full embedded queue fails track() with a DeviceLinkPluginError an app maps to 503 (as the collector does), not 500', async () => {
    const stores = createMemoryStore({ maxQueued: 1 });
    const app = await buildTestApp({ store: stores }, (host) => {
      host.setErrorHandler((err, _request, reply) => {
        // The collector's events route maps any store failure of track() to 503 DL_STORE_UNAVAILABLE.
        reply.code(isDeviceLinkPluginError(err) ? 503 : 500).send({ name: (err as Error).name });
      });
    });
    try {
      const headers = { 'x-device-fingerprint': HEADER_ID };
      const ok = await app.inject({ method: 'POST', url: '/v1/events', payload: eventsBody(), headers });
      expect(ok.statusCode).toBe(202);
      const full = await app.inject({ method: 'POST', url: '/v1/events', payload: eventsBody(), headers });
      expect(full.statusCode).toBe(503);
      expect(full.json()).toEqual({ name: 'QueueFullError' });
    } finally {
      await app.close();
      await stores.close();
    }
  });

  it('refuses a journal written with another partition count (replay moved its entries to partition 0)', async () => {
    const journalPath = journal();
    const a = createMemoryStore({ journalPath, partitions: 8 });
    const deviceId = newDeviceId();
    await a.touch(touchInput(deviceId));
    await a.close();
    expect(readFileSync(journalPath, 'utf8').split('\n')[0]).toBe('{"partitions":8}');
    expect(() => createMemoryStore({ journalPath, partitions: 4 })).toThrow(QueuePartitionsMismatchError);
    expect(() => createMemoryStore({ journalPath, partitions: 16 })).toThrow(/pass partitions: 8/);
    const b = createMemoryStore({ journalPath, partitions: 8 });
    const replayed = await drain(b, deviceId);
    expect(replayed.map((e) => e.record)).toMatchObject([{ kind: 'pageview', deviceId }]);
    await b.close();
  });

  it('refuses a journal without header whose entries do not fit the partition count, and keeps one that fits', async () => {
    const journalPath = journal();
    writeFileSync(
      journalPath,
      `${JSON.stringify({ a: [5, 1, { kind: 'erase-user', userId: 'u', ts: 0 }] })}\n`,
    );
    expect(() => createMemoryStore({ journalPath, partitions: 4 })).toThrow(QueuePartitionsMismatchError);
    const c = createMemoryStore({ journalPath, partitions: 8 });
    expect(await c.depth(5)).toBe(1);
    await c.close();
  });
});

describe('hooks on opted-in routes only (they were global: every request of a host app paid for them)', () => {
  it('a route that did not opt in carries no devicelink hook, an opted-in one does', async () => {
    const app = await buildTestApp();
    const seen = new Map<string, unknown[]>();
    await app.register(async (child) => {
      child.addHook('onRoute', (route) => {
        const hooks = [route.onRequest, route.onSend, route.onResponse].flat().filter(Boolean);
        if (route.method === 'GET') seen.set(route.url, hooks);
      });
      child.get('/health-child', async () => 'ok');
      child.get('/tracked-child', { config: { devicelink: true } }, async () => 'ok');
    });
    try {
      await app.ready();
      expect(seen.get('/health-child')).toEqual([]);
      expect(seen.get('/tracked-child')?.length).toBeGreaterThanOrEqual(2);
    } finally {
      await app.close();
    }
  });

  it('a route of a child plugin registered after devicelink gets device work; its untracked sibling none', async () => {
    const app = await buildTestApp();
    await app.register(
      async (child) => {
        child.get('/shop', { config: { devicelink: true } }, async (request) => ({ id: request.deviceId }));
        child.get('/ping', async (request) => ({ id: request.deviceId }));
      },
      { prefix: '/child' },
    );
    try {
      const headers = { 'x-device-fingerprint': HEADER_ID };
      const shop = await app.inject({ url: '/child/shop', headers });
      expect(shop.json()).toEqual({ id: HEADER_ID });
      expect(shop.headers['x-device-fingerprint']).toBe(HEADER_ID);
      expect(shop.headers.vary).toBe('X-Device-Fingerprint, Cookie');
      const head = await app.inject({ method: 'HEAD', url: '/child/shop', headers });
      expect(head.headers['x-device-fingerprint']).toBeUndefined();
      const ping = await app.inject({ url: '/child/ping', headers });
      expect(ping.json()).toEqual({ id: null });
      expect(ping.headers['x-device-fingerprint']).toBeUndefined();
      expect(setCookies(ping.headers)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('trackRequests and QUERY_ALLOWLIST (the allowlist was ignored)', () => {
  it('keeps only the parameters of queryAllowlist in the URLs it counts', async () => {
    const stores = createMemoryStore({ partitions: 1 });
    const app = await buildTestApp({
      store: stores,
      trackRequests: () => true,
      queryAllowlist: ['q'],
    });
    app.get('/search', { config: { devicelink: true } }, async () => 'ok');
    try {
      const headers = { 'x-device-fingerprint': HEADER_ID };
      await app.inject({ url: '/search?q=shoes&utm_source=mail&token=secret', headers });
      const records = await waitFor(
        async () => {
          const entries = await drain(stores, HEADER_ID);
          return entries.length > 0 ? entries.map((e) => e.record) : null;
        },
        { what: 'the request counted' },
      );
      expect(records).toMatchObject([{ kind: 'pageview', url: '/search?q=shoes' }]);
    } finally {
      await app.close();
      await stores.close();
    }
  });

  it('refuses a queryAllowlist that is not an array of names, naming the option', async () => {
    for (const queryAllowlist of ['utm_source', [''], [1]]) {
      await expect(buildTestApp({ queryAllowlist: queryAllowlist as never })).rejects.toThrow(
        /queryAllowlist/,
      );
    }
  });
});

describe('track() on the hot path', () => {
  it('does not wait for the edge record, and the edge is recorded exactly once per request', async () => {
    const stores = createMemoryStore();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls: CookieEdge[] = [];
    const recordEdge = async (edge: CookieEdge): Promise<void> => {
      calls.push(edge);
      await gate;
    };
    // The store's methods use private fields: delegate to it, bound, and replace only recordEdge.
    const store = new Proxy(stores, {
      get(target, key) {
        if (key === 'recordEdge') return recordEdge;
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const app = await buildTestApp({ store });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: eventsBody(),
        headers: { 'x-device-fingerprint': HEADER_ID, cookie: `${DEVICE_COOKIE}=${COOKIE_ID}` },
      });
      expect(res.statusCode).toBe(202);
      expect(calls).toEqual([{ kind: 'cookie', deviceId: HEADER_ID, otherId: COOKIE_ID }]);
    } finally {
      release();
      await app.close();
      await stores.close();
    }
  });

  it("reads the body's consent once per track() call", async () => {
    const app = await buildTestApp();
    let reads = 0;
    app.post('/count', { config: { devicelink: true } }, async (request) => {
      const body = {
        get consent() {
          reads++;
          return undefined;
        },
      };
      (request as { body: unknown }).body = body;
      return app.devicelink.track(request, [
        { type: 'pageview', url: '/', referrer: null, id: null, clientTs: null },
      ]);
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/count',
        headers: { 'x-device-fingerprint': HEADER_ID },
      });
      expect(res.json()).toMatchObject({ tracked: true, deviceId: HEADER_ID });
      expect(reads).toBe(1);
    } finally {
      await app.close();
    }
  });
});
