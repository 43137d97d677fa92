/**
 * Plain Node HTTP servers the e2e tests need besides the collector: the demo's built files on a second
 * origin (same site, another port), and a "third-party" API on another address that records what it
 * receives. Real servers on real ports: nothing is mocked.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../apps/demo/dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

/** A listening server. */
export interface RunningServer {
  /** Its origin, e.g. `http://127.0.0.1:41235`. */
  origin: string;
  close(): Promise<void>;
}

async function listen(server: Server, host: string): Promise<RunningServer> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serves `apps/demo/dist` at `/demo/` on 127.0.0.1 and a free port, every unknown path under it answered
 * with index.html (client-side routes survive a reload). index.html gets
 * `window.DEVICELINK_DEMO = { collector }` before app.js (read per request, so the server can start
 * before the collector whose CORS list needs its origin), the way a site would configure the demo.
 */
export async function serveDemo(collector: () => string): Promise<RunningServer> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (!path.startsWith('/demo/')) {
      res.writeHead(404).end();
      return;
    }
    const file = normalize(join(DIST, path.slice('/demo/'.length)));
    const type = TYPES[extname(file)];
    if (file.startsWith(DIST) && type) {
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': type }).end(body);
        return;
      } catch {
        // Not a file: fall through to the page.
      }
    }
    const html = (await readFile(join(DIST, 'index.html'), 'utf8')).replace(
      '<script type="module"',
      `<script>window.DEVICELINK_DEMO = ${JSON.stringify({ collector: collector() })};</script>\n<script type="module"`,
    );
    res.writeHead(200, { 'content-type': TYPES['.html']! }).end(html);
  });
  return listen(server, '127.0.0.1');
}

/** One request the third-party server received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * A third-party API on 127.0.0.2 (another site for the browser). It allows any origin, lists the device
 * header as allowed and exposed, and answers with an `X-Device-Fingerprint` of its own: the SDK must
 * neither send the id there nor adopt what comes back.
 */
export async function serveThirdParty(
  echoedId: string,
): Promise<RunningServer & { received: ReceivedRequest[] }> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
      'access-control-allow-origin': req.headers.origin ?? '*',
      // The demo's axios instance sends credentials (for the collector cookie), so CORS needs this.
      'access-control-allow-credentials': 'true',
      'access-control-allow-headers': 'X-Device-Fingerprint, X-Device-Consent, Content-Type',
      'access-control-expose-headers': 'X-Device-Fingerprint',
      'x-device-fingerprint': echoedId,
      'content-type': 'application/json',
    });
    res.end(req.method === 'OPTIONS' ? undefined : JSON.stringify({ ok: true }));
  });
  return Object.assign(await listen(server, '127.0.0.2'), { received });
}
