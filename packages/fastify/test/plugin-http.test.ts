import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corsOptions } from '../src/index.js';
import { BODY_ID, buildTestApp, COOKIE_ID, eventsBody, HEADER_ID } from './plugin-app.js';

const ORIGIN = 'http://app.example';
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = await buildTestApp({}, async (f) => {
    // The app's own CORS options: its origin list and its own request header.
    await f.register(cors, corsOptions({ origin: [ORIGIN], allowedHeaders: 'Content-Type, X-App-Token' }));
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => app.close());

describe('the plugin over a real listening port', () => {
  it('answers each tier with its source', async () => {
    const header = await fetch(`${base}/v1/session`, { headers: { 'X-Device-Fingerprint': HEADER_ID } });
    expect(await header.json()).toEqual({ deviceId: HEADER_ID, source: 'header' });

    const cookie = await fetch(`${base}/v1/session`, { headers: { Cookie: `device_fp=${COOKIE_ID}` } });
    expect(await cookie.json()).toEqual({ deviceId: COOKIE_ID, source: 'cookie' });
    expect(cookie.headers.getSetCookie()).toEqual([]);

    const server = await fetch(`${base}/v1/session`);
    const body = (await server.json()) as { deviceId: string; source: string };
    expect(body.source).toBe('server');
    expect(server.headers.get('x-device-fingerprint')).toBe(body.deviceId);
    expect(server.headers.getSetCookie()).toEqual([
      `device_fp=${body.deviceId}; Max-Age=34560000; Path=/; HttpOnly; SameSite=Lax`,
    ]);
    // @fastify/cors adds Origin first; ours are merged in, not overwritten.
    expect(server.headers.get('vary')).toBe('Origin, X-Device-Fingerprint, Cookie');
    expect(server.headers.get('cache-control')).toBe('private');
  });

  it('takes the deviceId of a sendBeacon-style text/plain body', async () => {
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(eventsBody({ deviceId: BODY_ID })),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ tracked: true, deviceId: BODY_ID, source: 'header' });
    expect(res.headers.getSetCookie()[0]).toContain(`device_fp=${BODY_ID};`);
  });

  it('clears a sent cookie under Sec-GPC: 1 and answers tracked false', async () => {
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Sec-GPC': '1', Cookie: `device_fp=${COOKIE_ID}` },
      body: JSON.stringify(eventsBody()),
    });
    expect(await res.json()).toEqual({ tracked: false, reason: 'consent' });
    expect(res.headers.get('x-device-fingerprint')).toBeNull();
    expect(res.headers.getSetCookie()[0]).toMatch(/^device_fp=; Max-Age=0;/);
  });

  it('does no device work on HEAD', async () => {
    const res = await fetch(`${base}/v1/session`, {
      method: 'HEAD',
      headers: { 'X-Device-Fingerprint': HEADER_ID },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-device-fingerprint')).toBeNull();
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

describe('CORS configured through corsOptions()', () => {
  it('allows credentials and the device header in a cross-origin preflight, keeping the app’s own header', async () => {
    const res = await fetch(`${base}/v1/events`, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type, x-device-fingerprint, x-device-consent, x-app-token',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(
      expect.arrayContaining(['content-type', 'x-app-token', 'x-device-fingerprint', 'x-device-consent']),
    );
    // The preflight itself is device-free.
    expect(res.headers.get('x-device-fingerprint')).toBeNull();
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('exposes the echoed header with credentials on the cross-origin response', async () => {
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: {
        Origin: ORIGIN,
        'Content-Type': 'application/json',
        'X-Device-Fingerprint': HEADER_ID,
        'X-App-Token': 'app-own-header',
      },
      body: JSON.stringify(eventsBody()),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Device-Fingerprint');
    expect(res.headers.get('x-device-fingerprint')).toBe(HEADER_ID);
    expect(res.headers.get('vary')).toContain('X-Device-Fingerprint');
    expect(res.headers.get('vary')).toContain('Origin');
  });
});
