import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { waitFor } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deviceId, eventsBody, sendPageviews, useCollector } from './support/collector.js';
import { claims, jwksServer, signJwt } from './support/jwt.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123';

function identify(app: FastifyInstance, token: string, device?: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/identify',
    headers: { authorization: `Bearer ${token}`, ...(device ? { 'x-device-fingerprint': device } : {}) },
  });
}

async function adminDetail(app: FastifyInstance, device: string) {
  const r = await app.inject({
    url: `/v1/admin/devices/${device}`,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return r.json();
}

describe('identify with an HS256 secret', () => {
  const ctx = useCollector('identify', {
    ADMIN_TOKEN,
    JWT_SECRET: SECRET,
    JWT_ISSUER: 'https://idp.test',
    JWT_AUDIENCE: 'shop',
  });
  const good = (extra: Record<string, unknown> = {}) =>
    signJwt('HS256', claims({ iss: 'https://idp.test', aud: 'shop', ...extra }), SECRET);

  it('a valid token links the device sessions, shown in the admin detail', async () => {
    const d = deviceId();
    await sendPageviews(ctx.app, d, 2);
    const res = await identify(ctx.app, good(), d);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ userId: 'user-1', deviceId: d });
    expect(res.json().sessionId).toEqual(expect.any(String));
    const detail = await waitFor(async () => {
      const j = await adminDetail(ctx.app, d);
      return j.persisted.sessions[0]?.convertedUserId === 'user-1' ? j : null;
    });
    expect(detail.links).toHaveLength(1);
    expect(detail.links[0].userId).toBe('user-1');
  });

  it('the same call again answers 200 and adds no link', async () => {
    const d = deviceId();
    await sendPageviews(ctx.app, d, 1);
    expect((await identify(ctx.app, good(), d)).statusCode).toBe(200);
    const again = await identify(ctx.app, good(), d);
    expect(again.statusCode).toBe(200);
    expect(again.json().sessionId).toBeNull();
    const detail = await waitFor(async () => {
      const j = await adminDetail(ctx.app, d);
      return j.links.length > 0 ? j : null;
    });
    expect(detail.links).toHaveLength(1);
  });

  it('without a device header or cookie answers deviceId null and links nothing', async () => {
    const res = await identify(ctx.app, good());
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: 'user-1', deviceId: null, sessionId: null });
  });

  it('takes the device from the cookie when no header is sent', async () => {
    const d = deviceId();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: { authorization: `Bearer ${good()}`, cookie: `device_fp=${d}` },
    });
    expect(res.json().deviceId).toBe(d);
  });

  const refusals: Array<[string, () => string]> = [
    ['alg none', () => signJwt('none', claims({ iss: 'https://idp.test', aud: 'shop' }))],
    [
      'a wrong key',
      () =>
        signJwt(
          'HS256',
          claims({ iss: 'https://idp.test', aud: 'shop' }),
          'another-secret-xxxxxxxxxxxxxxxxxxx',
        ),
    ],
    ['an expired token', () => good({ exp: Math.floor(Date.now() / 1000) - 120 })],
    ['a token without exp', () => good({ exp: undefined })],
    ['a wrong aud', () => good({ aud: 'other' })],
    ['a wrong iss', () => good({ iss: 'https://evil.test' })],
    ['a numeric sub', () => good({ sub: 42 })],
    ['a token without iss while JWT_ISSUER is set', () => good({ iss: undefined })],
    ['a token without aud while JWT_AUDIENCE is set', () => good({ aud: undefined })],
    ['an iat in the future', () => good({ iat: Math.floor(Date.now() / 1000) + 3600 })],
    ['an nbf in the future', () => good({ nbf: Math.floor(Date.now() / 1000) + 3600 })],
    ['an exp of 1e300', () => good({ exp: 1e300 })],
    ['an exp 31 days ahead', () => good({ exp: Math.floor(Date.now() / 1000) + 31 * 86_400 })],
    ['garbage', () => 'not.a.jwt'],
  ];
  for (const [name, token] of refusals) {
    it(`refuses ${name} with 401 and a DL_ code`, async () => {
      const res = await identify(ctx.app, token(), deviceId());
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toMatch(/^DL_/);
    });
  }

  it.each([
    ['a lone surrogate', 'x\ud800'],
    ['an Arabic letter mark', 'admin\u061c'],
    ['a zero-width space', 'ad\u200bmin'],
    ['a tag character', 'admin\u{e0041}'],
  ])('refuses a sub holding %s with 401 naming the claim', async (_name, sub) => {
    const res = await identify(ctx.app, good({ sub }), deviceId());
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'DL_TOKEN_INVALID', message: expect.stringContaining('"sub"') });
  });

  it('events sent with a token whose sub is ill-formed are kept as anonymous page views of the device', async () => {
    // Such a sub once reached the queue and stopped every persister pass (a lone surrogate).
    const d = deviceId();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${good({ sub: 'x\ud800' })}`, 'x-device-fingerprint': d },
      payload: eventsBody(1),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 1, tracked: true, deviceId: d });
    expect(res.json().userId).toBeUndefined();
  });

  it('refuses a request without a token with 401 DL_TOKEN_MISSING', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/identify' });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('DL_TOKEN_MISSING');
  });

  it('accepts a token expired less than the 30 s clock tolerance ago', async () => {
    const res = await identify(ctx.app, good({ exp: Math.floor(Date.now() / 1000) - 10 }), deviceId());
    expect(res.statusCode).toBe(200);
  });

  it('attributes authenticated events to the token sub, with no device work', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${good({ sub: 'user-9' })}` },
      payload: eventsBody(1),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 1, tracked: true, userId: 'user-9' });
    expect(res.headers['x-device-fingerprint']).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

function publicPem(key: KeyObject): string {
  return String(key.export({ type: 'spki', format: 'pem' }));
}

for (const kind of ['rsa', 'ec'] as const) {
  describe(`identify with a ${kind === 'rsa' ? 'RS256' : 'ES256'} public key`, () => {
    const pair =
      kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const alg = kind === 'rsa' ? 'RS256' : 'ES256';
    const ctx = useCollector('identify', { ADMIN_TOKEN, JWT_PUBLIC_KEY: publicPem(pair.publicKey) });

    it('accepts a token signed with the private key', async () => {
      const res = await identify(ctx.app, signJwt(alg, claims(), pair.privateKey), deviceId());
      expect(res.statusCode).toBe(200);
    });

    it('refuses an HS256 token signed with the public key as secret (algorithm confusion)', async () => {
      const res = await identify(ctx.app, signJwt('HS256', claims(), publicPem(pair.publicKey)), deviceId());
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toMatch(/^DL_/);
    });

    it('refuses a token signed by another key', async () => {
      const other =
        kind === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const res = await identify(ctx.app, signJwt(alg, claims(), other.privateKey), deviceId());
      expect(res.statusCode).toBe(401);
    });
  });
}

describe('identify with a JWKS served by a local server', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  beforeAll(async () => {
    jwks = await jwksServer();
  });
  afterAll(() => jwks.close());
  const ctx = useCollector('identify', () => ({ ADMIN_TOKEN, JWT_JWKS_URL: jwks.url }));
  /** Identifies a fresh device with `token`. */
  const identifyWith = (token: string) => identify(ctx.app, token, deviceId());

  it('accepts a token whose kid is in the JWKS', async () => {
    const res = await identifyWith(signJwt('RS256', claims(), jwks.privateKey, { kid: 'key-1' }));
    expect(res.statusCode).toBe(200);
  });

  it('refuses a token without kid', async () => {
    const res = await identifyWith(signJwt('RS256', claims(), jwks.privateKey));
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('DL_TOKEN_INVALID');
  });

  it('refuses a token with an unknown kid', async () => {
    const res = await identifyWith(signJwt('RS256', claims(), jwks.privateKey, { kid: 'nope' }));
    expect(res.statusCode).toBe(401);
  });

  it('refuses alg none even with a known kid', async () => {
    const res = await identifyWith(signJwt('none', claims(), undefined, { kid: 'key-1' }));
    expect(res.statusCode).toBe(401);
  });
});
