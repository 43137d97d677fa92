/**
 * The replacement marker through the plugin (docs/protocol.md, Replacement marker): after a reset the
 * SDK's new id moves the `device_fp` cookie only on a request that could set a header, whose marker
 * names the cookie and whose new id the store has never seen; it never ties the two ids together.
 */
import { randomBytes } from 'node:crypto';
import type { QueueRecord } from '@devicelink/protocol';
import { hasServices, uniquePrefix } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientDeviceId, createMemoryStore, createRedisStore, type DeviceStore } from '../src/index.js';
import { buildTestApp, eventsBody, setCookies, storeOf } from './plugin-app.js';
import { useSingleNode } from './redis-harness.js';

const newId = () => randomBytes(16).toString('base64url');

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const prefixes: string[] = [];
const redis = hasServices('redis') ? useSingleNode(() => prefixes) : null;
const backends: Array<{ name: string; store: () => Promise<DeviceStore & { close(): Promise<unknown> }> }> = [
  { name: 'memory', store: async () => createMemoryStore() },
  ...(redis
    ? [
        {
          name: 'Redis',
          store: async () => {
            const prefix = uniquePrefix('plugin-replacement');
            prefixes.push(prefix);
            const store = await createRedisStore(redis(), { prefix, partitions: 8 });
            return { ...store, close: async () => {} };
          },
        },
      ]
    : []),
];

let makeStore: () => Promise<DeviceStore & { close(): Promise<unknown> }> = backends[0]!.store;

/** An app whose cookie holds the previous person's id, which the store knows. */
async function appWithPrevious(): Promise<{ app: FastifyInstance; old: string; next: string }> {
  const store = await makeStore();
  open.push(store);
  const app = await buildTestApp({ store });
  open.push(app);
  // An app's form route: a form post or a same-site text/plain POST, its body left as text.
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'multipart/form-data'],
    { parseAs: 'string' },
    (_r, body, done) => done(null, body),
  );
  app.post('/v1/session-form', { config: { devicelink: true } }, async (request) => ({
    deviceId: request.deviceId,
  }));
  // A login route not opted in: it asks for the replacement itself, then converts.
  app.post('/login-plain', async (request, reply) => {
    const replaced = await app.devicelink.replaceCookie(request, reply);
    const deviceId = clientDeviceId(request);
    if (deviceId !== null) await app.devicelink.convert(deviceId, 'user-next');
    return { deviceId, replaced };
  });
  // An app's own login route: it converts the client's id before answering.
  app.post('/login', { config: { devicelink: true } }, async (request) => {
    const deviceId = clientDeviceId(request);
    if (deviceId !== null) await app.devicelink.convert(deviceId, 'user-next');
    return { deviceId };
  });
  const old = newId();
  const first = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'x-device-fingerprint': old },
    payload: eventsBody(),
  });
  expect(first.statusCode).toBe(202);
  await queued(app);
  return { app, old, next: newId() };
}

/** Every record queued since the last call, pageviews left out. */
async function queued(app: FastifyInstance): Promise<QueueRecord[]> {
  const store = storeOf(app);
  const out: QueueRecord[] = [];
  for (let p = 0; p < store.partitions; p++) {
    for (const e of await store.read(p, 'test', 1000)) if (e.record.kind !== 'pageview') out.push(e.record);
  }
  return out;
}

const deviceCookie = (res: { headers: Record<string, unknown> }) =>
  setCookies(res.headers).find((c) => c.startsWith('device_fp='));

describe.each(backends)('the replacement marker on $name', (backend) => {
  beforeEach(() => {
    makeStore = backend.store;
  });

  it('a fetch naming the cookie with an unknown new id moves the cookie, queues a boundary and no edge', async () => {
    const { app, old, next } = await appWithPrevious();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': next, 'x-device-replaces': old, cookie: `device_fp=${old}` },
      payload: eventsBody(),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ tracked: true, deviceId: next });
    expect(res.headers['x-device-fingerprint']).toBe(next);
    expect(deviceCookie(res)).toMatch(new RegExp(`^device_fp=${next};`));
    expect(await queued(app)).toEqual([
      { kind: 'boundary', deviceId: next, otherId: old, ts: expect.any(Number) },
    ]);
  });

  it('an app route that stores nothing (a GET without a body) moves the cookie too', async () => {
    const { app, old, next } = await appWithPrevious();
    const res = await app.inject({
      url: '/v1/session',
      headers: { 'x-device-fingerprint': next, 'x-device-replaces': old, cookie: `device_fp=${old}` },
    });
    expect(res.json()).toEqual({ deviceId: next, source: 'header' });
    expect(deviceCookie(res)).toMatch(new RegExp(`^device_fp=${next};`));
    expect(await queued(app)).toEqual([
      expect.objectContaining({ kind: 'boundary', deviceId: next, otherId: old }),
    ]);
  });

  it('a login route that converts the new id before answering still moves the cookie', async () => {
    const { app, old, next } = await appWithPrevious();
    const res = await app.inject({
      method: 'POST',
      url: '/login',
      headers: {
        'content-type': 'application/json',
        'x-device-fingerprint': next,
        'x-device-replaces': old,
        cookie: `device_fp=${old}`,
      },
      payload: '{}',
    });
    expect(res.json()).toEqual({ deviceId: next });
    expect(deviceCookie(res)).toMatch(new RegExp(`^device_fp=${next};`));
    expect((await queued(app)).map((r) => r.kind).sort()).toEqual(['boundary', 'link']);
  });

  it('a login route not opted in moves the cookie through replaceCookie(), and only for the cookie named', async () => {
    const { app, old, next } = await appWithPrevious();
    const login = (replaces: string, id = next) =>
      app.inject({
        method: 'POST',
        url: '/login-plain',
        headers: {
          'content-type': 'application/json',
          'x-device-fingerprint': id,
          'x-device-replaces': replaces,
          cookie: `device_fp=${old}`,
        },
        payload: '{}',
      });
    const wrong = await login(newId(), newId());
    expect(wrong.json()).toMatchObject({ replaced: false });
    expect(deviceCookie(wrong)).toBeUndefined();
    await queued(app);
    const res = await login(old);
    expect(res.json()).toEqual({ deviceId: next, replaced: true });
    expect(deviceCookie(res)).toMatch(new RegExp(`^device_fp=${next};`));
    expect((await queued(app)).map((r) => r.kind).sort()).toEqual(['boundary', 'link']);
  });

  it('two requests of the browser at once both move the cookie, with one boundary', async () => {
    const { app, old, next } = await appWithPrevious();
    const headers = { 'x-device-fingerprint': next, 'x-device-replaces': old, cookie: `device_fp=${old}` };
    const both = await Promise.all(
      [1, 2].map(() => app.inject({ method: 'POST', url: '/v1/events', headers, payload: eventsBody() })),
    );
    for (const res of both) expect(deviceCookie(res)).toMatch(new RegExp(`^device_fp=${next};`));
    expect((await queued(app)).map((r) => r.kind)).toEqual(['boundary']);
  });

  it('a marker naming another id than the cookie leaves the cookie and records no edge', async () => {
    const { app, old, next } = await appWithPrevious();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': next, 'x-device-replaces': newId(), cookie: `device_fp=${old}` },
      payload: eventsBody(),
    });
    expect(res.statusCode).toBe(202);
    // The request is the new person's; the cookie is not theirs to take.
    expect(res.json()).toMatchObject({ deviceId: next });
    expect(deviceCookie(res)).toBeUndefined();
    expect(await queued(app)).toEqual([]);
  });

  it('a beacon carrying the marker in its body leaves the cookie and records no edge', async () => {
    const { app, old, next } = await appWithPrevious();
    for (const type of ['text/plain;charset=UTF-8', 'application/json']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': type, cookie: `device_fp=${old}` },
        payload: JSON.stringify(eventsBody({ deviceId: next, replaces: old })),
      });
      expect(res.statusCode).toBe(202);
      expect(deviceCookie(res)).toBeUndefined();
    }
    expect(await queued(app)).toEqual([]);
  });

  it('a same-site text/plain POST carrying the marker header leaves the cookie', async () => {
    const { app, old, next } = await appWithPrevious();
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/session-form',
        headers: {
          'content-type': type,
          'x-device-fingerprint': next,
          'x-device-replaces': old,
          cookie: `device_fp=${old}`,
        },
        payload: 'a=b',
      });
      expect(res.statusCode, type).toBe(200);
      expect(deviceCookie(res), type).toBeUndefined();
    }
    expect(await queued(app)).toEqual([]);
  });

  it('a new id the store knows leaves the cookie and records no edge', async () => {
    const { app, old } = await appWithPrevious();
    const known = newId();
    await app.inject({ url: '/v1/session', headers: { 'x-device-fingerprint': known } });
    await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': known },
      payload: eventsBody(),
    });
    await queued(app);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': known, 'x-device-replaces': old, cookie: `device_fp=${old}` },
      payload: eventsBody(),
    });
    expect(res.statusCode).toBe(202);
    expect(deviceCookie(res)).toBeUndefined();
    expect(await queued(app)).toEqual([]);
  });

  it('a fresh id under a marker still yields to the cookie, with no yield edge', async () => {
    const { app, old, next } = await appWithPrevious();
    const res = await app.inject({
      url: '/v1/session',
      headers: {
        'x-device-fingerprint': next,
        'x-device-fresh': '1',
        'x-device-replaces': old,
        cookie: `device_fp=${old}`,
      },
    });
    expect(res.json()).toEqual({ deviceId: old, source: 'cookie' });
    expect(deviceCookie(res)).toBeUndefined();
    expect(await queued(app)).toEqual([]);
  });

  it('without a marker a non-fresh id still beats the cookie with a cookie edge (as before)', async () => {
    const { app, old, next } = await appWithPrevious();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': next, cookie: `device_fp=${old}` },
      payload: eventsBody(),
    });
    expect(deviceCookie(res)).toMatch(new RegExp(`^device_fp=${next};`));
    await expect
      .poll(() => queued(app))
      .toEqual([expect.objectContaining({ kind: 'edge', edge: 'cookie', deviceId: next, otherId: old })]);
  });
});
