/**
 * A real HTTP server on 127.0.0.1 and a free port, recording what it receives and answering like a
 * devicelink collector (docs/protocol.md): it speaks CORS with credentials (the browser environment
 * enforces it) and, by default, the identity rules of the `device_fp` cookie and the fresh flag:
 * - a fresh id (`X-Device-Fresh: 1`, or `"fresh": true` in a beacon body) yields to a valid cookie:
 *   the echo is the cookie's id and the cookie stays;
 * - any other id wins: echoed, and the cookie set to it;
 * - no id: the cookie's, else `serverId`;
 * - `DELETE /v1/device/cookie` and `DELETE /v1/device` clear the cookie (204), `DELETE
 *   /v1/device/recovery` answers 204, `POST /v1/device/fingerprint` 202.
 * Tests replace `answer` to script other answers.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toDeviceId } from '@devicelink/protocol';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createDeviceLink, type DeviceLink, type DeviceLinkOptions } from '../src/index.js';

/** One request as the server saw it (preflights are answered but not recorded). */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What to answer; `echo: null` sends no device header; `cookie` sets (a string) or clears (null) it. */
export interface Answer {
  status?: number;
  echo?: string | null;
  body?: unknown;
  cookie?: string | null;
}

export interface TestServer {
  origin: string;
  received: Received[];
  /** Decides each answer; the default is {@link collectorAnswer}. */
  answer: (req: Received) => Answer;
  /** The methods its CORS preflight allows (default `GET, POST, PUT, DELETE`). */
  allowMethods: string;
  close(): Promise<void>;
}

/** A fixed id the default answer echoes when the request carried none and had no cookie. */
export const serverId = 'srv_generated_id_0123456789';

/** The `device_fp` cookie a request carried, if valid. */
export function cookieOf(req: Received): string | null {
  return toDeviceId(/(?:^|;\s*)device_fp=([^;]*)/.exec(req.headers.cookie ?? '')?.[1]);
}

/** The device id and fresh flag a request carried (header, or a beacon's body). */
function sentOf(req: Received): { id: string | null; fresh: boolean } {
  let body: { deviceId?: unknown; fresh?: unknown } = {};
  try {
    body = JSON.parse(req.body);
  } catch {}
  const header = req.headers['x-device-fingerprint'] as string | undefined;
  return {
    id: toDeviceId(header ?? body.deviceId),
    fresh: req.headers['x-device-fresh'] === '1' || body.fresh === true,
  };
}

/** The collector's identity rules (see the file comment), for every route. */
export function collectorAnswer(req: Received): Answer {
  if (req.method === 'DELETE') {
    const clears = req.path === '/v1/device/cookie' || req.path === '/v1/device';
    return { status: 204, echo: null, cookie: clears ? null : undefined };
  }
  const status = req.path === '/v1/identify' ? 200 : 202;
  const { id, fresh } = sentOf(req);
  const cookie = cookieOf(req);
  if (id && fresh && cookie) return { status, echo: cookie };
  const device = id ?? cookie ?? serverId;
  return { status, echo: device, cookie: device === cookie ? undefined : device };
}

export async function startServer(): Promise<TestServer> {
  const state: TestServer = {
    origin: '',
    received: [],
    answer: collectorAnswer,
    allowMethods: 'GET, POST, PUT, DELETE',
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Expose-Headers', 'X-Device-Fingerprint');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', state.allowMethods);
      res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '');
      res.writeHead(204).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
      };
      state.received.push(received);
      const { status = 200, echo, body: out = { ok: true }, cookie } = state.answer(received);
      if (echo) res.setHeader('X-Device-Fingerprint', echo);
      if (cookie !== undefined) {
        res.setHeader(
          'Set-Cookie',
          cookie === null ? 'device_fp=; Path=/; Max-Age=0' : `device_fp=${cookie}; Path=/; HttpOnly`,
        );
      }
      if (status === 204) {
        res.writeHead(204).end();
        return;
      }
      res.setHeader('Content-Type', 'application/json');
      res.writeHead(status).end(JSON.stringify(out));
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** The test server of a file: started before its tests, closed after them. Call the result inside tests. */
export function useTestServer(): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.close());
  return () => {
    if (!server) throw new Error('the test server starts in beforeAll: use it inside a test');
    return server;
  };
}

/**
 * Starts DeviceLinks on the test server (page views sent by hand, `options` on top), each stopped after
 * its test.
 */
export function useDeviceLinks(
  server: () => TestServer,
): (options?: Partial<DeviceLinkOptions>) => DeviceLink {
  const running: DeviceLink[] = [];
  afterEach(() => {
    for (const dl of running.splice(0)) dl.stop();
  });
  return (options = {}) => {
    const dl = createDeviceLink({ collector: server().origin, autoPageviews: false, ...options });
    running.push(dl);
    return dl;
  };
}
