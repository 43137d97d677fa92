import { describe, expect, it } from 'vitest';
import { deviceId, eventsBody, sendPageviews, useCollector } from './support/collector.js';

describe('debug, health and CORS routes', () => {
  const ctx = useCollector('routes', { DEBUG_ROUTES: 'true', CORS_ORIGINS: 'https://shop.test' });
  const eventsFrom = (origin: string) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { origin }, payload: eventsBody(1) });

  it('GET /v1/session shows the caller device and its live session', async () => {
    const d = deviceId();
    await sendPageviews(ctx.app, d, 2);
    const res = await ctx.app.inject({ url: '/v1/session', headers: { 'x-device-fingerprint': d } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      deviceId: d,
      source: 'header',
      joined: false,
      session: { pagesVisited: 2 },
    });
  });

  it('healthz answers ok and readyz reports the store and Postgres', async () => {
    expect((await ctx.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await ctx.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      store: 'embedded',
      postgres: 'up',
      persister: 'on',
    });
  });

  it('refuses events from an origin not in CORS_ORIGINS with 403 DL_ORIGIN_REFUSED', async () => {
    const res = await eventsFrom('https://evil.test');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('DL_ORIGIN_REFUSED');
  });

  it('answers a listed origin with credentials and the device header exposed', async () => {
    const res = await eventsFrom('https://shop.test');
    expect(res.statusCode).toBe(202);
    expect(res.headers['access-control-allow-origin']).toBe('https://shop.test');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(String(res.headers['access-control-expose-headers'])).toContain('X-Device-Fingerprint');
  });

  it.each(['/v1/device/cookie', '/v1/device/recovery', '/v1/device'])(
    'lets a listed origin send the DELETE of %s: its preflight allows the method and the device headers',
    async (url) => {
      const res = await ctx.app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: 'https://shop.test',
          'access-control-request-method': 'DELETE',
          'access-control-request-headers': 'x-device-fingerprint,x-device-consent',
        },
      });
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('https://shop.test');
      expect(String(res.headers['access-control-allow-methods']).split(/,\s*/)).toContain('DELETE');
      expect(String(res.headers['access-control-allow-headers'])).toContain('x-device-fingerprint');
    },
  );

  it('accepts events without an Origin (server-side clients)', async () => {
    expect(
      (await ctx.app.inject({ method: 'POST', url: '/v1/events', payload: eventsBody(1) })).statusCode,
    ).toBe(202);
  });

  it('tracks nothing under X-Device-Consent: denied and clears the cookie', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-consent': 'denied', cookie: `device_fp=${deviceId()}` },
      payload: eventsBody(1),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 0, tracked: false });
    expect(String(res.headers['set-cookie'])).toMatch(/device_fp=;.*Max-Age=0/);
  });

  it('answers an unknown route with 404 DL_NOT_FOUND', async () => {
    const res = await ctx.app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('DL_NOT_FOUND');
  });
});
