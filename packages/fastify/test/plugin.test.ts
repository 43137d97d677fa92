import { waitFor } from '@devicelink/test-env';
import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import devicelink, { createMemoryStore, type DeviceStore, isDeviceLinkPluginError } from '../src/index.js';
import {
  BODY_ID,
  buildTestApp,
  COOKIE_ID,
  eventsBody,
  HEADER_ID,
  setCookies,
  storeOf,
} from './plugin-app.js';

const apps: { close(): Promise<unknown> }[] = [];
async function app(...args: Parameters<typeof buildTestApp>) {
  const a = await buildTestApp(...args);
  apps.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
/** An app on a fresh memory store whose `recordEdge` is watched. */
async function appWatchingEdges() {
  const stores = createMemoryStore();
  const recordEdge = vi.spyOn(stores, 'recordEdge');
  return { stores, recordEdge, a: await app({ store: stores }) };
}

describe('tiered lookup', () => {
  it('takes a valid X-Device-Fingerprint header as the id, source "header"', async () => {
    const a = await app();
    const res = await a.inject({ url: '/v1/session', headers: { 'x-device-fingerprint': HEADER_ID } });
    expect(res.json()).toEqual({ deviceId: HEADER_ID, source: 'header' });
  });

  it('falls back to a valid device_fp cookie, source "cookie", and does not set the cookie again', async () => {
    const a = await app();
    const res = await a.inject({ url: '/v1/session', cookies: { device_fp: COOKIE_ID } });
    expect(res.json()).toEqual({ deviceId: COOKIE_ID, source: 'cookie' });
    expect(setCookies(res.headers)).toEqual([]);
    expect(res.headers['x-device-fingerprint']).toBe(COOKIE_ID);
  });

  it('generates a 128-bit base64url id when the client sends nothing, source "server"', async () => {
    const a = await app();
    const res = await a.inject({ url: '/v1/session' });
    const body = res.json();
    expect(body.source).toBe('server');
    expect(body.deviceId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(body.deviceId, 'base64url')).toHaveLength(16);
    expect(setCookies(res.headers)[0]).toContain(`device_fp=${body.deviceId}`);
  });

  it('treats invalid header and cookie values as absent and rewrites the invalid cookie', async () => {
    const a = await app();
    const res = await a.inject({
      url: '/v1/session',
      headers: { 'x-device-fingerprint': 'undefined' },
      cookies: { device_fp: '0000000000000000' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().source).toBe('server');
    expect(setCookies(res.headers)[0]).toContain(`device_fp=${res.json().deviceId}`);
  });

  it('reads deviceId from the body of a text/plain beacon, source "header"', async () => {
    const a = await app();
    const res = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      payload: JSON.stringify(eventsBody({ deviceId: BODY_ID })),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ tracked: true, accepted: 1, deviceId: BODY_ID, source: 'header' });
    expect(res.headers['x-device-fingerprint']).toBe(BODY_ID);
  });

  it('prefers the header over a different body deviceId', async () => {
    const a = await app();
    const res = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': HEADER_ID },
      payload: eventsBody({ deviceId: BODY_ID }),
    });
    expect(res.json()).toMatchObject({ deviceId: HEADER_ID });
  });

  it('runs the lookup once per request and memoises it, even for server ids', async () => {
    // Routes opt in after the plugin is registered (its onRoute hook equips them).
    const a = await buildTestApp();
    a.get('/twice', { config: { devicelink: true } }, async (request) => [
      request.deviceId,
      request.deviceSource,
      request.deviceId,
    ]);
    apps.push(a);
    const res = await a.inject({ url: '/twice' });
    const [first, source, second] = res.json();
    expect(source).toBe('server');
    expect(second).toBe(first);
    expect(res.headers['x-device-fingerprint']).toBe(first);
  });
});

describe('response on device work', () => {
  it('echoes the id with Vary merged into the route’s own, and Cache-Control private', async () => {
    const a = await buildTestApp();
    a.get('/page', { config: { devicelink: true } }, async (_request, reply) => {
      reply.header('Vary', 'Accept-Encoding').header('Cache-Control', 'public, max-age=60');
      return 'ok';
    });
    apps.push(a);
    const res = await a.inject({ url: '/page', headers: { 'x-device-fingerprint': HEADER_ID } });
    expect(res.headers['x-device-fingerprint']).toBe(HEADER_ID);
    expect(res.headers.vary).toBe('Accept-Encoding, X-Device-Fingerprint, Cookie');
    expect(res.headers['cache-control']).toBe('private, max-age=60');
  });

  it('sets the cookie with the contract flags and SameSite=Lax by default', async () => {
    const a = await app();
    const res = await a.inject({ url: '/v1/session', headers: { 'x-device-fingerprint': HEADER_ID } });
    const [cookie] = setCookies(res.headers);
    expect(cookie).toBe(`device_fp=${HEADER_ID}; Max-Age=34560000; Path=/; HttpOnly; SameSite=Lax`);
    expect(res.headers['cache-control']).toBe('private');
    expect(res.headers.vary).toBe('X-Device-Fingerprint, Cookie');
  });

  it.each([
    [{ sameSite: 'strict' as const }, '; SameSite=Strict'],
    [{ sameSite: 'lax' as const, secure: true }, '; Secure; SameSite=Lax'],
    [{ sameSite: 'none' as const, secure: true }, '; Secure; SameSite=None'],
  ])('honours cookie options %o in the Set-Cookie flags', async (cookie, flags) => {
    const a = await app({ cookie });
    const res = await a.inject({ url: '/v1/session', headers: { 'x-device-fingerprint': HEADER_ID } });
    const [set] = setCookies(res.headers);
    expect(set).toContain('HttpOnly');
    expect(set?.replace(/; HttpOnly/, '').endsWith(flags.replace('; HttpOnly', ''))).toBe(true);
    expect(set).toContain(flags.includes('Secure') ? 'Secure' : 'SameSite');
    if (!flags.includes('Secure')) expect(set).not.toContain('Secure');
  });

  it('sets no id, cookie or edge on an error answer such as a refused body', async () => {
    const { stores, recordEdge, a } = await appWatchingEdges();
    const res = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': HEADER_ID },
      cookies: { device_fp: COOKIE_ID },
      payload: { events: [] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-device-fingerprint']).toBeUndefined();
    expect(setCookies(res.headers)).toEqual([]);
    expect(recordEdge).not.toHaveBeenCalled();
    await stores.close();
  });

  it('answers the id on a tracked route even when the handler never read it', async () => {
    const a = await buildTestApp();
    a.get('/quiet', { config: { devicelink: true } }, async () => 'ok');
    apps.push(a);
    const res = await a.inject({ url: '/quiet', cookies: { device_fp: COOKIE_ID } });
    expect(res.headers['x-device-fingerprint']).toBe(COOKIE_ID);
  });
});

describe('no device work', () => {
  it.each(['OPTIONS', 'HEAD'] as const)('does nothing on %s', async (method) => {
    const a = await buildTestApp();
    a.route({
      method: ['GET', 'OPTIONS'],
      url: '/both',
      config: { devicelink: true },
      handler: async (r) => ({ id: r.deviceId }),
    });
    apps.push(a);
    const res = await a.inject({ method, url: '/both', headers: { 'x-device-fingerprint': HEADER_ID } });
    expect(res.statusCode).toBeLessThan(300);
    expect(res.headers['x-device-fingerprint']).toBeUndefined();
    expect(setCookies(res.headers)).toEqual([]);
    if (method === 'OPTIONS') expect(res.json()).toEqual({ id: null });
  });

  it('does nothing on a route that does not opt in (health, metrics, admin)', async () => {
    const a = await app();
    const res = await a.inject({ url: '/healthz', headers: { 'x-device-fingerprint': HEADER_ID } });
    expect(res.json()).toEqual({ ok: true, deviceId: null });
    expect(res.headers['x-device-fingerprint']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
    expect(setCookies(res.headers)).toEqual([]);
  });

  describe('with @fastify/jwt registered', () => {
    async function jwtApp(store?: DeviceStore) {
      const stores = createMemoryStore();
      const a = await buildTestApp({ store: store ?? stores }, async (f) => {
        await f.register(fastifyJwt, { secret: 'a-test-secret-of-sufficient-length' });
      });
      a.addHook('onClose', () => stores.close());
      apps.push(a);
      return { a, stores };
    }

    it('does no device work for a valid bearer token and queues the events under its sub', async () => {
      const { a, stores } = await jwtApp();
      const token = a.jwt.sign({ sub: 'user-42' });
      const res = await a.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${token}`, 'x-device-fingerprint': HEADER_ID },
        cookies: { device_fp: COOKIE_ID },
        payload: eventsBody(),
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ tracked: true, accepted: 1, userId: 'user-42' });
      expect(res.headers['x-device-fingerprint']).toBeUndefined();
      expect(setCookies(res.headers)).toEqual([]);
      expect(await stores.session(HEADER_ID)).toBeNull();
      const queued = [];
      for (let p = 0; p < stores.partitions; p++) queued.push(...(await stores.read(p, 't', 10)));
      expect(queued.map((e) => e.record)).toEqual([
        expect.objectContaining({ kind: 'pageview', userId: 'user-42', deviceId: null, sessionId: null }),
      ]);
    });

    it('treats an invalid or expired token as anonymous and still counts the event', async () => {
      const { a } = await jwtApp();
      const expired = a.jwt.sign({ sub: 'user-42', exp: Math.floor(Date.now() / 1000) - 60 });
      for (const token of ['not.a.jwt', expired]) {
        const res = await a.inject({
          method: 'POST',
          url: '/v1/events',
          headers: { authorization: `Bearer ${token}`, 'x-device-fingerprint': HEADER_ID },
          payload: eventsBody(),
        });
        expect(res.statusCode).toBe(202);
        expect(res.json()).toMatchObject({ tracked: true, deviceId: HEADER_ID });
      }
    });

    it('treats a token without a string sub as anonymous', async () => {
      const { a } = await jwtApp();
      const res = await a.inject({
        url: '/v1/session',
        headers: { authorization: `Bearer ${a.jwt.sign({ sub: 7 } as object)}` },
        cookies: { device_fp: COOKIE_ID },
      });
      expect(res.json()).toEqual({ deviceId: COOKIE_ID, source: 'cookie' });
    });
  });

  it('uses a custom authenticate option instead of @fastify/jwt', async () => {
    const a = await app({ authenticate: async (r) => (r.headers['x-user'] === 'u1' ? 'u1' : null) });
    const res = await a.inject({
      url: '/v1/session',
      headers: { 'x-user': 'u1', 'x-device-fingerprint': HEADER_ID },
    });
    expect(res.json()).toEqual({ deviceId: null, source: null });
    expect(res.headers['x-device-fingerprint']).toBeUndefined();
  });
});

describe('consent', () => {
  const denied: [string, Record<string, string>, Record<string, unknown>][] = [
    ['X-Device-Consent: denied', { 'x-device-consent': 'denied' }, {}],
    ['Sec-GPC: 1', { 'sec-gpc': '1' }, {}],
    ['"consent":"denied" in the body', {}, { consent: 'denied' }],
  ];

  it.each(denied)(
    '%s means no device work, tracked false, and clears a sent cookie',
    async (_n, headers, body) => {
      const a = await app();
      const res = await a.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...headers, 'x-device-fingerprint': HEADER_ID },
        cookies: { device_fp: COOKIE_ID },
        payload: eventsBody({ deviceId: BODY_ID, ...body }),
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ tracked: false, reason: 'consent' });
      expect(res.headers['x-device-fingerprint']).toBeUndefined();
      expect(setCookies(res.headers)).toEqual([
        expect.stringMatching(/^device_fp=; Max-Age=0; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/),
      ]);
    },
  );

  it('honours the body’s consent even when the id was read before the body was parsed', async () => {
    const a = await buildTestApp({}, (f) => {
      // preParsing: after the plugin's onRequest, before the body exists.
      f.addHook('preParsing', async (request, _reply, payload) => {
        expect(request.deviceId).toBe(COOKIE_ID);
        return payload;
      });
    });
    apps.push(a);
    const res = await a.inject({
      method: 'POST',
      url: '/v1/events',
      cookies: { device_fp: COOKIE_ID },
      payload: eventsBody({ consent: 'denied' }),
    });
    expect(res.json()).toEqual({ tracked: false, reason: 'consent' });
    expect(res.headers['x-device-fingerprint']).toBeUndefined();
    expect(setCookies(res.headers)[0]).toMatch(/^device_fp=; Max-Age=0;/);
    expect(await storeOf(a).session(COOKIE_ID)).toBeNull();
  });

  it('sets no Set-Cookie under denied consent when no cookie was sent', async () => {
    const a = await app();
    const res = await a.inject({ url: '/v1/session', headers: { 'x-device-consent': 'denied' } });
    expect(res.json()).toEqual({ deviceId: null, source: null });
    expect(setCookies(res.headers)).toEqual([]);
  });

  it('tracks under Sec-GPC: 1 when honorGpc is false', async () => {
    const a = await app({ honorGpc: false });
    const res = await a.inject({
      url: '/v1/session',
      headers: { 'sec-gpc': '1', 'x-device-fingerprint': HEADER_ID },
    });
    expect(res.json()).toEqual({ deviceId: HEADER_ID, source: 'header' });
  });
});

/** Every record queued in any partition of `store`. */
async function allQueued(store: ReturnType<typeof createMemoryStore>) {
  const all = [];
  for (let p = 0; p < store.partitions; p++) all.push(...(await store.read(p, 'c', 100)));
  return all.map((e) => e.record);
}

describe('edges and the fresh flag', () => {
  it('lets a differing valid non-fresh header win, rewrites the cookie and records a cookie edge', async () => {
    const { stores, recordEdge, a } = await appWatchingEdges();
    const res = await a.inject({
      url: '/v1/session',
      headers: { 'x-device-fingerprint': HEADER_ID },
      cookies: { device_fp: COOKIE_ID },
    });
    expect(res.json()).toEqual({ deviceId: HEADER_ID, source: 'header' });
    expect(setCookies(res.headers)[0]).toContain(`device_fp=${HEADER_ID};`);
    await waitFor(() => recordEdge.mock.calls.length === 1, { what: 'edge recorded' });
    expect(recordEdge).toHaveBeenCalledWith({ kind: 'cookie', deviceId: HEADER_ID, otherId: COOKIE_ID });
    expect(await allQueued(stores)).toContainEqual(
      expect.objectContaining({ kind: 'edge', edge: 'cookie', deviceId: HEADER_ID, otherId: COOKIE_ID }),
    );
    await stores.close();
  });

  it('a fresh id yields to the cookie on every request (header or beacon) and never rewrites it', async () => {
    const { stores, recordEdge, a } = await appWatchingEdges();
    const requests = [
      { url: '/v1/session', headers: { 'x-device-fingerprint': HEADER_ID, 'x-device-fresh': '1' } },
      {
        method: 'POST' as const,
        url: '/v1/events',
        headers: { 'x-device-fingerprint': HEADER_ID, 'x-device-fresh': '1' },
        payload: eventsBody(),
      },
      {
        method: 'POST' as const,
        url: '/v1/events',
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify(eventsBody({ deviceId: HEADER_ID, fresh: true })),
      },
    ];
    for (const request of requests) {
      const res = await a.inject({ ...request, cookies: { device_fp: COOKIE_ID } });
      expect(res.statusCode).toBeLessThan(300);
      // The SDK adopts the echo: the cookie's id.
      expect(res.headers['x-device-fingerprint']).toBe(COOKIE_ID);
      expect(setCookies(res.headers)).toEqual([]);
    }
    await waitFor(() => recordEdge.mock.calls.length === requests.length, { what: 'yield edges' });
    for (const [edge] of recordEdge.mock.calls) {
      expect(edge).toEqual({ kind: 'yield', deviceId: COOKIE_ID, otherId: HEADER_ID });
    }
    const queued = await allQueued(stores);
    // Counted under the cookie's id; the yield edge queued once (repeats are no-ops).
    expect(queued.filter((r) => r.kind === 'pageview').map((r) => r.deviceId)).toEqual([
      COOKIE_ID,
      COOKIE_ID,
    ]);
    expect(queued.filter((r) => r.kind === 'edge')).toEqual([
      expect.objectContaining({ edge: 'yield', deviceId: COOKIE_ID, otherId: HEADER_ID }),
    ]);
    await stores.close();
  });

  it('a fresh id without a cookie answers, sets the cookie and, with recovery on, starts its join window', async () => {
    const stores = createMemoryStore();
    const noteMinted = vi.spyOn(stores, 'noteMinted');
    const off = await app({ store: stores });
    await off.inject({
      url: '/v1/session',
      headers: { 'x-device-fingerprint': HEADER_ID, 'x-device-fresh': '1' },
    });
    expect(noteMinted).not.toHaveBeenCalled();
    const on = await app({ store: stores, recovery: { secret: 'x'.repeat(32) } });
    const res = await on.inject({
      url: '/v1/session',
      headers: { 'x-device-fingerprint': HEADER_ID, 'x-device-fresh': '1' },
    });
    expect(res.json()).toEqual({ deviceId: HEADER_ID, source: 'header' });
    expect(setCookies(res.headers)[0]).toContain(`device_fp=${HEADER_ID};`);
    await waitFor(() => noteMinted.mock.calls.length === 1, { what: 'minted noted' });
    expect(noteMinted).toHaveBeenCalledWith(HEADER_ID, expect.stringMatching(/^[A-Za-z0-9_-]{22}$/));
    await stores.close();
  });

  it('records the edge once when track() runs, and a failing edge write does not fail the request', async () => {
    const stores = createMemoryStore();
    const recordEdge = vi.spyOn(stores, 'recordEdge').mockRejectedValue(new Error('store down'));
    const a = await app({ store: stores });
    const res = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': HEADER_ID },
      cookies: { device_fp: COOKIE_ID },
      payload: eventsBody(),
    });
    expect(res.statusCode).toBe(202);
    expect(recordEdge).toHaveBeenCalledTimes(1);
    await stores.close();
  });
});

describe('track()', () => {
  it('gives events without an id a UUIDv7 and counts a resent id once', async () => {
    const a = await app();
    const id = '01890a5d-ac96-774b-bcce-b302099a8057';
    const send = () =>
      a.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'x-device-fingerprint': HEADER_ID },
        payload: {
          events: [
            { type: 'pageview', url: '/a', id },
            { type: 'pageview', url: '/b' },
          ],
        },
      });
    expect((await send()).json()).toMatchObject({ accepted: 2 });
    expect((await send()).json()).toMatchObject({ accepted: 1 });
    expect(await storeOf(a).session(HEADER_ID)).toMatchObject({ pagesVisited: 3 });
  });

  it('stores a visitorHash beside server-tier ids only', async () => {
    const a = await app();
    const server = await a.inject({ method: 'POST', url: '/v1/events', payload: eventsBody() });
    const serverId = server.json().deviceId;
    expect((await storeOf(a).session(serverId))?.visitorHash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': HEADER_ID },
      payload: eventsBody(),
    });
    expect((await storeOf(a).session(HEADER_ID))?.visitorHash).toBeNull();
  });

  it('answers tracked false for an erased device', async () => {
    const a = await app();
    await storeOf(a).erase(HEADER_ID);
    const res = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': HEADER_ID },
      payload: eventsBody(),
    });
    expect(res.json()).toEqual({ tracked: false, reason: 'erased' });
  });

  it('answers tracked false for an erased user and queues nothing for it', async () => {
    const a = await app({
      authenticate: async (r) => (r.headers['x-user'] === 'u-erased' ? 'u-erased' : null),
    });
    await storeOf(a).eraseUser('u-erased');
    const res = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-user': 'u-erased' },
      payload: eventsBody(),
    });
    expect(res.json()).toEqual({ tracked: false, reason: 'erased' });
  });

  it('refuses to run on a route that did not opt in', async () => {
    const a = await buildTestApp({}, (f) => {
      f.post('/plain', async (request) => {
        try {
          await f.devicelink.track(request, [
            { type: 'pageview', url: '/', referrer: null, id: null, clientTs: null },
          ]);
          return 'tracked';
        } catch (err) {
          return isDeviceLinkPluginError(err) ? err.name : 'other';
        }
      });
    });
    apps.push(a);
    expect((await a.inject({ method: 'POST', url: '/plain' })).body).toBe('DeviceLinkUsageError');
  });
});

describe('trackRequests', () => {
  it('lets a host app count its own requests as page views of their URL', async () => {
    const a = await buildTestApp({
      trackRequests: (request) => request.method === 'GET' && request.url.startsWith('/products'),
    });
    a.get('/products/:id', { config: { devicelink: true } }, async (r) => ({
      product: (r.params as { id: string }).id,
    }));
    a.get('/api/cart', { config: { devicelink: true } }, async () => ({ items: [] }));
    apps.push(a);
    const headers = { 'x-device-fingerprint': HEADER_ID, referer: 'https://search.example/q?x=1' };
    await a.inject({ url: '/products/1?utm_source=mail&secret=1', headers });
    await a.inject({ url: '/products/2', headers });
    await a.inject({ url: '/api/cart', headers });
    const session = await waitFor(
      async () => {
        const s = await storeOf(a).session(HEADER_ID);
        return s && s.pagesVisited === 2 ? s : null;
      },
      { what: 'two page views counted' },
    );
    expect(session.source).toBe('header');
    const records = [];
    for (let p = 0; p < storeOf(a).partitions; p++) records.push(...(await storeOf(a).read(p, 'c', 10)));
    expect(records.map((e) => e.record)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'pageview',
          url: '/products/1?utm_source=mail',
          referrer: 'https://search.example',
        }),
        expect.objectContaining({ kind: 'pageview', url: '/products/2' }),
      ]),
    );
  });
});

describe('options', () => {
  it.each([
    [{ store: undefined }, 'store'],
    [{ store: {} }, 'store'],
    [{ store: { touch: () => null } }, 'store'],
    [{ cookie: { sameSite: 'none' } }, 'cookie.sameSite'],
    [{ cookie: { sameSite: 'loose' } }, 'cookie.sameSite'],
    [{ cookie: { secure: 'yes' } }, 'cookie.secure'],
    [{ honorGpc: 'true' }, 'honorGpc'],
    [{ trackRequests: true }, 'trackRequests'],
    [{ authenticate: 'jwt' }, 'authenticate'],
    [{ clientIp: 1 }, 'clientIp'],
  ])('refuses %o at register, naming %s', async (bad, name) => {
    const stores = createMemoryStore();
    const f = Fastify();
    const base = { store: stores };
    await expect(f.register(devicelink, { ...base, ...bad } as never).ready()).rejects.toThrow(`"${name}"`);
    await stores.close();
  });

  it('reuses an @fastify/cookie the app registered itself', async () => {
    const { default: cookie } = await import('@fastify/cookie');
    const a = await buildTestApp({}, async (f) => {
      await f.register(cookie, { secret: 's3cret' });
    });
    apps.push(a);
    const res = await a.inject({ url: '/v1/session', cookies: { device_fp: COOKIE_ID } });
    expect(res.json()).toEqual({ deviceId: COOKIE_ID, source: 'cookie' });
  });
});

describe('track() and the URL rules', () => {
  /** A host app's own page-view route: it hands track() what its body said, unparsed. */
  async function hostApp(queryAllowlist?: string[]) {
    const store = createMemoryStore();
    const app = Fastify({ logger: false });
    await app.register(devicelink, { store, ...(queryAllowlist ? { queryAllowlist } : {}) });
    app.post('/pageview', { config: { devicelink: true } }, async (request, reply) => {
      const { url, referrer = null } = request.body as { url: string; referrer?: string | null };
      try {
        return reply
          .code(202)
          .send(
            await app.devicelink.track(request, [
              { type: 'pageview', url, referrer, id: null, clientTs: null },
            ]),
          );
      } catch (err) {
        return reply.code(400).send({ refused: isDeviceLinkPluginError(err) });
      }
    });
    return { app, store };
  }

  it('queues only the allowlisted query parameters of a URL and the origin of a referrer', async () => {
    const { app, store } = await hostApp();
    const res = await app.inject({
      method: 'POST',
      url: '/pageview',
      headers: { 'x-device-fingerprint': HEADER_ID },
      payload: {
        url: 'https://shop.example/reset?token=secret&email=a@b.c&utm_source=news#step-2',
        referrer: 'https://mail.example/inbox/123?session=abc',
      },
    });
    expect(res.statusCode).toBe(202);
    const [record] = (await allQueued(store)).filter((r) => r.kind === 'pageview');
    expect(record).toMatchObject({
      url: 'https://shop.example/reset?utm_source=news',
      referrer: 'https://mail.example',
    });
    await app.close();
    await store.close();
  });

  it("keeps the app's queryAllowlist, and refuses a URL that is no http(s) URL or path", async () => {
    const { app, store } = await hostApp(['q']);
    const send = (url: string) =>
      app.inject({
        method: 'POST',
        url: '/pageview',
        headers: { 'x-device-fingerprint': HEADER_ID },
        payload: { url },
      });
    expect((await send('/search?q=shoes&utm_source=news')).statusCode).toBe(202);
    for (const bad of ['javascript:alert(1)', `/${'a'.repeat(2048)}`]) {
      const res = await send(bad);
      expect(res.statusCode, bad.slice(0, 20)).toBe(400);
      expect(res.json()).toEqual({ refused: true });
    }
    expect((await allQueued(store)).filter((r) => r.kind === 'pageview').map((r) => r.url)).toEqual([
      '/search?q=shoes',
    ]);
    await app.close();
    await store.close();
  });
});
