// @vitest-environment happy-dom
/**
 * The README's CORS examples, exactly as written there (the options are read from README.md), on a
 * real Fastify + @fastify/cors server and a real Express + cors server: a preflight carrying the SDK's
 * headers is allowed, `X-Device-Fingerprint` is exposed, and through happy-dom's fetch (CORS enforced)
 * an axios request from the app's origin goes out and the SDK reads the id the API echoes. A control
 * with the common `Content-Type, Authorization` only shows the preflight answer a browser refuses.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fastifyCors from '@fastify/cors';
import axios from 'axios';
import expressCors from 'cors';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { attachAxios } from '../src/axios.js';
import { createDeviceLink } from '../src/index.js';

vi.mock('@fingerprintjs/fingerprintjs', () => import('./fake-fingerprint.js').then((m) => m.install()));

const APP = 'https://app.example.com';
// The browser test's page: over http, because happy-dom (like a browser) blocks an https page's requests
// to the plain-http test servers. Only `origin` is swapped for it; every other option is the README's.
const PAGE = 'http://app.example.com';
const ECHO = 'api_cookie_device_id_01';
// A path, not a URL: under happy-dom `URL` is the DOM's, which fs refuses.
const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');

/** The options object of the README block after `<!-- cors:name -->`, between `start` and `end`. */
function readmeOptions(name: string, start: string, end: string): Record<string, unknown> {
  const block = readme.slice(readme.indexOf(`<!-- cors:${name} -->`));
  const open = block.indexOf('```');
  const code = block.slice(open, block.indexOf('```', open + 3));
  const from = code.indexOf(start) + start.length;
  // An object literal of plain data: evaluated, so the test uses exactly what the README shows.
  return new Function(`return (${code.slice(from, code.indexOf(end, from))});`)();
}

type Start = (options: Record<string, unknown>) => Promise<{ origin: string; close(): Promise<void> }>;

// Each server answers GET /me like an API with the devicelink plugin would: echoing a device id.
const servers: Record<string, { options: Record<string, unknown>; start: Start }> = {
  '@fastify/cors': {
    options: readmeOptions('fastify', 'register(cors, ', ');'),
    async start(options) {
      const app = Fastify();
      await app.register(fastifyCors, options);
      app.get('/me', async (_req, reply) => reply.header('X-Device-Fingerprint', ECHO).send({ ok: true }));
      const origin = await app.listen({ port: 0, host: '127.0.0.1' });
      return { origin, close: () => app.close() };
    },
  },
  'Express cors': {
    options: readmeOptions('express', 'app.use(cors(', '));'),
    async start(options) {
      const app = express();
      app.use(expressCors(options));
      app.get('/me', (_req, res) => {
        res.set('X-Device-Fingerprint', ECHO).json({ ok: true });
      });
      const server = await new Promise<import('node:http').Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      return {
        origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
  },
};

/** A raw request (no browser rules), answering status and headers. */
function raw(url: string, method: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>(
    (resolve, reject) => {
      const req = request(url, { method, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

const list = (value: unknown) =>
  String(value ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase());

beforeAll(() => {
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${PAGE}/page`);
});
beforeEach(() => localStorage.clear());

describe.each(Object.entries(servers))('the README example for %s', (_name, server) => {
  let api: { origin: string; close(): Promise<void> };
  let page: { origin: string; close(): Promise<void> };
  beforeAll(async () => {
    api = await server.start(server.options);
    page = await server.start({ ...server.options, origin: [PAGE] });
  });
  afterAll(() => Promise.all([api.close(), page.close()]));

  test('the README options allow and expose exactly the SDK headers', () => {
    expect(server.options.allowedHeaders).toEqual(
      expect.arrayContaining([
        'X-Device-Fingerprint',
        'X-Device-Consent',
        'X-Device-Fresh',
        'X-Device-Replaces',
      ]),
    );
    expect(server.options.exposedHeaders).toEqual(['X-Device-Fingerprint']);
  });

  test('a preflight with the SDK headers is allowed', async () => {
    const res = await raw(`${api.origin}/me`, 'OPTIONS', {
      Origin: APP,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers':
        'authorization,x-device-fingerprint,x-device-consent,x-device-fresh,x-device-replaces',
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(list(res.headers['access-control-allow-headers'])).toEqual(
      expect.arrayContaining([
        'x-device-fingerprint',
        'x-device-consent',
        'x-device-fresh',
        'x-device-replaces',
      ]),
    );
  });

  test('the response exposes X-Device-Fingerprint', async () => {
    const res = await raw(`${api.origin}/me`, 'GET', { Origin: APP });
    expect(list(res.headers['access-control-expose-headers'])).toContain('x-device-fingerprint');
    expect(res.headers['x-device-fingerprint']).toBe(ECHO);
  });

  test('in the browser, an anonymous axios request goes out and the SDK reads the echoed id', async () => {
    const dl = createDeviceLink({ collector: 'http://127.0.0.1:9', autoPageviews: false });
    const http = axios.create({ baseURL: page.origin });
    const eject = attachAxios(http, dl);
    try {
      // A minted id is fresh: the request carries X-Device-Fingerprint and X-Device-Fresh.
      expect(Object.keys(dl.headersFor('/me', page.origin))).toEqual([
        'X-Device-Fingerprint',
        'X-Device-Fresh',
      ]);
      await expect(http.get('/me')).resolves.toMatchObject({ status: 200 });
      // The fresh id yields to the echo: readable only because the header is exposed.
      expect(dl.deviceId()).toBe(ECHO);
    } finally {
      eject();
      dl.stop();
    }
  });

  test('control: an API that allows only Content-Type and Authorization refuses the SDK headers', async () => {
    // happy-dom does not check Access-Control-Allow-Headers; a browser does, against this answer.
    const narrow = await server.start({
      ...server.options,
      allowedHeaders: ['Content-Type', 'Authorization'],
    });
    try {
      const res = await raw(`${narrow.origin}/me`, 'OPTIONS', {
        Origin: APP,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'x-device-fingerprint,x-device-fresh',
      });
      expect(list(res.headers['access-control-allow-headers'])).not.toContain('x-device-fingerprint');
      expect(list(res.headers['access-control-allow-headers'])).not.toContain('x-device-fresh');
    } finally {
      await narrow.close();
    }
  });
});
