/**
 * The app the simulated browsers visit: a plain Node HTTP server for the bench page (built here with
 * esbuild from the SDK's build, FingerprintJS split into its own chunk as an app's bundler does) and a
 * blank page of the same origin without the SDK, where the harness clears localStorage without a page
 * of the app being open (an open page would send its pagehide beacon with the old id).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { build } from 'esbuild';

/** The running app server. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The app's first page. */
  appUrl: string;
  /** A page of the same origin without the SDK. */
  blankUrl: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8' };

/**
 * Builds the page and serves it on 127.0.0.1. `collector()` gives the base URL written into the page,
 * read per request: the server starts before the collector, whose CORS list needs this origin.
 */
export async function startPageServer(collector: () => string): Promise<PageServer> {
  const dir = await mkdtemp(join(tmpdir(), 'devicelink-idbench-page-'));
  await build({
    entryPoints: { app: join(import.meta.dirname, 'page', 'bench-page.ts') },
    outdir: dir,
    bundle: true,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    // The SDK's own build triggers a harmless ignored-bare-import warning.
    logLevel: 'error',
  });
  const html = () =>
    '<!doctype html><html><head><meta charset="utf-8"><title>identity bench</title>' +
    `<script>window.BENCH_CONFIG = ${JSON.stringify({ collector: collector() })};</script>` +
    '<script type="module" src="/app/app.js"></script></head><body>bench</body></html>';
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/blank.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>blank</title>');
      return;
    }
    if (!path.startsWith('/app/')) {
      res.writeHead(404).end();
      return;
    }
    const file = normalize(join(dir, path.slice('/app/'.length)));
    const type = TYPES[extname(file)];
    if (type && file.startsWith(dir)) {
      try {
        res.writeHead(200, { 'content-type': type }).end(await readFile(file));
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    // Every other path under /app/ is a route of the app: a reload of a client-side route works.
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    appUrl: `${origin}/app/`,
    blankUrl: `${origin}/blank.html`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
