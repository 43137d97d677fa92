/**
 * The plugin's side of fingerprint joins and the cookie's scope (docs/protocol.md, Fingerprint
 * joins): evidence is hashed with the recovery secret, judged for the request's own device, and the
 * answer never carries another device's id.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore, type DeviceLinkPluginOptions, type MemoryStore } from '../src/index.js';
import { buildTestApp, COOKIE_ID, setCookies } from './plugin-app.js';
import { pageview } from './store-harness.js';

const SECRET = 'a-recovery-secret-of-32-characters!';
const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const newId = () => randomBytes(16).toString('base64url');

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

/** A test app with an evidence route like the collector's `POST /v1/device/fingerprint`. */
async function appWith(
  options: Partial<DeviceLinkPluginOptions> = {},
): Promise<{ app: FastifyInstance; store: MemoryStore }> {
  const store = createMemoryStore();
  const app = await buildTestApp({ store, ...options }, undefined, { trustProxy: true });
  app.post<{ Body: { visitorId: string } }>(
    '/v1/device/fingerprint',
    { config: { devicelink: true } },
    async (request, reply) =>
      reply.code(202).send(await app.devicelink.fingerprint(request, request.body.visitorId)),
  );
  app.delete('/v1/device/cookie', async (_request, reply) => {
    app.devicelink.clearCookie(reply);
    return reply.code(204).send();
  });
  open.push(app, store);
  return { app, store };
}

/** A browser's first visit: a minted id's fresh request, then its evidence from `ip`. */
async function visit(app: FastifyInstance, ip: string, visitorId = 'visitor-of-this-model') {
  const id = newId();
  const headers = { 'x-device-fingerprint': id, 'user-agent': CHROME, 'x-forwarded-for': ip };
  await app.inject({ url: '/v1/session', headers: { ...headers, 'x-device-fresh': '1' } });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/device/fingerprint',
    headers,
    payload: { visitorId },
  });
  return { id, res };
}

describe('fingerprint evidence through the plugin', () => {
  it('is not taken while joins are off (no recovery secret)', async () => {
    const { app } = await appWith();
    const { res } = await visit(app, '192.0.2.10');
    expect(res.json()).toEqual({ status: 'off' });
  });

  it('joins a minted id on the same /24 and browser family, and the answer never names the other device', async () => {
    const { app } = await appWith({ recovery: { secret: SECRET } });
    const first = await visit(app, '192.0.2.10');
    expect(first.res.json()).toEqual({ status: 'registered' });
    const second = await visit(app, '192.0.2.99');
    expect(second.res.json()).toEqual({ status: 'joined' });
    expect(second.res.body).not.toContain(first.id);
    expect(second.res.headers['x-device-fingerprint']).toBe(second.id);
    expect(JSON.stringify(second.res.headers)).not.toContain(first.id);
    // Another network is another entry.
    expect((await visit(app, '198.51.100.7')).res.json()).toEqual({ status: 'registered' });
  });

  it('takes no evidence for a fresh id that yielded to the cookie (the browser is known)', async () => {
    const { app } = await appWith({ recovery: { secret: SECRET } });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/device/fingerprint',
      headers: { 'x-device-fingerprint': newId(), 'x-device-fresh': '1', 'user-agent': CHROME },
      cookies: { device_fp: COOKIE_ID },
      payload: { visitorId: 'v' },
    });
    expect(res.json()).toEqual({ status: 'yielded' });
    expect(res.headers['x-device-fingerprint']).toBe(COOKIE_ID);
  });

  it('refuses a recovery secret shorter than 32 characters, naming the option', async () => {
    await expect(appWith({ recovery: { secret: 'short' } })).rejects.toThrow(/recovery\.secret/);
  });

  it('refuses new-id limits that are not positive integers, naming the option', async () => {
    await expect(appWith({ rateLimit: { max: 10, newIds: { perNetwork: 0 } } })).rejects.toThrow(
      /rateLimit\.newIds\.perNetwork/,
    );
    await expect(appWith({ rateLimit: { max: 10, newIds: 'many' as unknown as null } })).rejects.toThrow(
      /rateLimit\.newIds/,
    );
  });

  it('with rateLimit, refuses the page views of new ids past the limit of their network and keeps known ones', async () => {
    const { app } = await appWith({
      rateLimit: { max: 100, newIds: { perAddress: 2, perNetwork: 100, perBlock: 100 } },
    });
    app.post('/track', { config: { devicelink: true } }, async (request, reply) => {
      const result = await app.devicelink.track(request, [pageview()]);
      return reply.code(result.tracked ? 202 : 429).send(result);
    });
    const send = (deviceId: string) =>
      app.inject({ method: 'POST', url: '/track', headers: { 'x-device-fingerprint': deviceId } });
    const [a, b] = [newId(), newId()];
    expect((await send(a)).statusCode).toBe(202);
    expect((await send(b)).statusCode).toBe(202);
    const refused = await send(newId());
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ reason: 'limited', by: 'network', limit: { max: 2 } });
    expect((await send(a)).statusCode).toBe(202);
  });
});

describe('the cookie scope options', () => {
  it('sets and clears the cookie with its domain and Partitioned flag', async () => {
    const { app } = await appWith({
      cookie: { secure: true, sameSite: 'none', domain: 'shop.example', partitioned: true },
    });
    const set = setCookies((await app.inject({ url: '/v1/session' })).headers)[0] ?? '';
    for (const flag of ['Domain=shop.example', 'Secure', 'SameSite=None', 'Partitioned', 'HttpOnly']) {
      expect(set).toContain(flag);
    }
    const cleared = setCookies((await app.inject({ method: 'DELETE', url: '/v1/device/cookie' })).headers)[0];
    expect(cleared).toMatch(/^device_fp=;/);
    expect(cleared).toContain('Domain=shop.example');
    expect(cleared).toContain('Partitioned');
  });

  it('refuses Partitioned without Secure and a malformed domain', async () => {
    await expect(appWith({ cookie: { partitioned: true } })).rejects.toThrow(/cookie\.partitioned/);
    await expect(appWith({ cookie: { domain: 'a b; c' } })).rejects.toThrow(/cookie\.domain/);
  });
});
