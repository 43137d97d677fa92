/**
 * Regression tests of the request path: consent on identify, the per-address rate
 * limit, the rate-limit salt without a store, JWKS fetch bounds, the Origin check before token work,
 * error statuses, and public-key curves.
 */
import { generateKeyPairSync } from 'node:crypto';
import { waitFor } from '@devicelink/test-env';
import createError from '@fastify/error';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/collector-config.js';
import { installErrorHandlers } from '../src/http/error-handler.js';
import { deviceId, eventsBody, useCollector } from './support/collector.js';
import { claims, jwksServer, signJwt } from './support/jwt.js';

const SECRET = 'request-hardening-secret-long-enough-0123';

describe('identify under denied consent', () => {
  const ctx = useCollector('hardening', { JWT_SECRET: SECRET });

  it.each([
    ['X-Device-Consent: denied', { 'x-device-consent': 'denied' }],
    ['Sec-GPC: 1', { 'sec-gpc': '1' }],
  ])('with %s it links nothing, answers deviceId null and clears the sent cookie', async (_n, headers) => {
    const d = deviceId();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: {
        authorization: `Bearer ${signJwt('HS256', claims({ sub: 'consent-user' }), SECRET)}`,
        'x-device-fingerprint': d,
        cookie: `device_fp=${d}`,
        ...headers,
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: 'consent-user', deviceId: null, sessionId: null });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^device_fp=;/);
    expect(cookie).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    expect(cookie).toMatch(/HttpOnly/);
  });

  it('refuses a token whose sub holds a control character, without repeating the error prefix', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: { authorization: `Bearer ${signJwt('HS256', claims({ sub: 'a\u0000b' }), SECRET)}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('DL_TOKEN_INVALID');
  });

  it('answers identify without a store salt (store down) instead of a 500', async () => {
    const sessions = ctx.app.collector.resources.store;
    const original = sessions.dailySalt;
    sessions.dailySalt = async () => {
      throw new Error('store down');
    };
    try {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/v1/identify',
        headers: { authorization: `Bearer ${signJwt('HS256', claims(), SECRET)}` },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      sessions.dailySalt = original;
    }
  });

  it('reports the migration state on /readyz', async () => {
    const res = await ctx.app.inject({ url: '/readyz' });
    expect(res.json().migrations).toBe('applied');
  });
});

describe('the per-address rate limit', () => {
  const ctx = useCollector('hardening', { RATE_LIMIT_PER_MINUTE: '2' });

  it('refuses a client that sends a fresh device id each request once the address limit is spent', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'x-device-fingerprint': deviceId() },
        payload: eventsBody(1),
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 20).every((s) => s === 202)).toBe(true);
    expect(statuses[20]).toBe(429);
  });
});

describe('JWKS fetches and the Origin check', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  beforeAll(async () => {
    jwks = await jwksServer();
  });
  afterAll(() => jwks.close());
  const ctx = useCollector('hardening', () => ({
    JWT_JWKS_URL: jwks.url,
    CORS_ORIGINS: 'https://shop.test',
  }));
  const identify = (app: FastifyInstance, token: string) =>
    app.inject({ method: 'POST', url: '/v1/identify', headers: { authorization: `Bearer ${token}` } });

  it('refuses a kid the key set lacks without fetching again, however often the kid comes', async () => {
    const token = signJwt('RS256', claims(), jwks.privateKey, { kid: 'not-in-the-set' });
    // The set is fetched at start; within the 30 s cooldown an unknown kid costs no fetch
    // (test/jwks-fetches.test.ts covers the cooldown).
    await waitFor(() => jwks.fetches() >= 1, { what: 'the start-up fetch' });
    const before = jwks.fetches();
    const first = await identify(ctx.app, token);
    const second = await identify(ctx.app, token);
    expect(first.statusCode).toBe(401);
    expect(second.statusCode).toBe(401);
    expect(second.json().code).toBe('DL_TOKEN_INVALID');
    expect(second.json().message).not.toMatch(/token refused: token refused/);
    expect(jwks.fetches() - before).toBe(0);
  });

  it('refuses an unlisted Origin with 403 before verifying the bearer token', async () => {
    const before = jwks.fetches();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        origin: 'https://evil.test',
        authorization: `Bearer ${signJwt('RS256', claims(), jwks.privateKey, { kid: 'another-unknown' })}`,
      },
      payload: eventsBody(1),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('DL_ORIGIN_REFUSED');
    expect(jwks.fetches()).toBe(before);
  });
});

describe('a JWKS server that never answers', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  beforeAll(async () => {
    jwks = await jwksServer({ hang: true });
  });
  afterAll(() => jwks.close());
  const ctx = useCollector('hardening', () => ({ JWT_JWKS_URL: jwks.url }));

  // The verifier gives a JWKS fetch JWKS_FETCH_TIMEOUT_MS (5 s, src/auth/token-verifier.ts) before it
  // refuses the token. The collector is built in beforeAll, so this test's time is that wait alone: its
  // timeout bounds it at four times the code's own timeout, a margin a loaded 2-core machine keeps.
  it(
    'answers 401 DL_TOKEN_INVALID once the 5 s JWKS fetch timeout ends, not hanging with the server',
    async () => {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/v1/identify',
        headers: { authorization: `Bearer ${signJwt('RS256', claims(), jwks.privateKey, { kid: 'key-1' })}` },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('DL_TOKEN_INVALID');
    },
    4 * 5_000,
  );
});

describe('the error handler', () => {
  async function appThrowing(err: Error) {
    const app = Fastify();
    installErrorHandlers(app);
    app.get('/x', async () => {
      throw err;
    });
    app.post('/body', async () => ({ ok: true }));
    await app.ready();
    return app;
  }

  it.each([403, 404, 405, 406])('keeps a plugin error status %i and gives it a DL_ code', async (status) => {
    const app = await appThrowing(new (createError('FST_SOMETHING', 'refused', status))());
    const res = await app.inject({ url: '/x' });
    expect(res.statusCode).toBe(status);
    expect(res.json().code).toMatch(/^DL_/);
    await app.close();
  });

  it('answers a Content-Length that does not match the body with 400 DL_INVALID_REQUEST', async () => {
    const app = await appThrowing(new Error('unused'));
    const res = await app.inject({
      method: 'POST',
      url: '/body',
      headers: { 'content-type': 'application/json', 'content-length': '50' },
      payload: '{"a":1}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('DL_INVALID_REQUEST');
    await app.close();
  });
});

describe('JWT_PUBLIC_KEY curves', () => {
  it.each(['secp384r1', 'secp521r1'])(
    'refuses an EC key on %s at start-up, naming JWT_PUBLIC_KEY',
    (curve) => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const pem = String(publicKey.export({ type: 'spki', format: 'pem' }));
      expect(() => loadConfig({ JWT_PUBLIC_KEY: pem })).toThrow(/JWT_PUBLIC_KEY/);
    },
  );
});
