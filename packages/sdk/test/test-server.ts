/**
 * A real HTTP server on 127.0.0.1 and a free port, recording what it receives and answering like a
 * devicelink endpoint: it echoes `X-Device-Fingerprint` and speaks CORS with credentials (the browser
 * environment enforces it), so the SDK is exercised against the same rules a browser applies.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it (preflights are answered but not recorded). */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What to answer; `echo: null` sends no device header. */
export interface Answer {
  status?: number;
  echo?: string | null;
  body?: unknown;
}

export interface TestServer {
  origin: string;
  received: Received[];
  /** Decides each answer; the default echoes the id the request carried, else `serverId`. */
  answer: (req: Received) => Answer;
  close(): Promise<void>;
}

/** A fixed id the default answer echoes when the request carried none. */
export const serverId = 'srv_generated_id_0123456789';

export async function startServer(): Promise<TestServer> {
  const state: TestServer = {
    origin: '',
    received: [],
    answer: (req) => ({ echo: (req.headers['x-device-fingerprint'] as string | undefined) ?? serverId }),
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
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE');
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
      const { status = 200, echo, body: out = { ok: true } } = state.answer(received);
      if (echo) res.setHeader('X-Device-Fingerprint', echo);
      res.setHeader('Content-Type', 'application/json');
      res.writeHead(status).end(JSON.stringify(out));
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
