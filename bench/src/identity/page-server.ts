/**
 * The app the simulated browsers visit: a plain Node HTTP server for the bench page (built here with
 * esbuild from the SDK's build, FingerprintJS split into its own chunk as an app's bundler does) and a
 * blank page of the same origin without the SDK, where the harness clears localStorage without a page
 * of the app being open (an open page would send its pagehide beacon with the old id).
 *
 * The edge rows' instance also serves `/edge/`, an app with the SDK's axios glue to its own API, and,
 * given the directory of an older SDK build, `/edge-old/`: the same app on that SDK (the two-tab row's
 * "without the change"). `extra` answers other paths (the two-tab row's rendezvous).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { build } from 'esbuild';

/** The running app server. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  port: number;
  /** The app's first page. */
  appUrl: string;
  /** A page of the same origin without the SDK. */
  blankUrl: string;
  close(): Promise<void>;
}

/** Options of the edge rows' instance. */
export interface PageServerOptions {
  /** The app's API (read per request), written into the edge page. */
  api?: () => string;
  /** `dist` of an older SDK build, served as `/edge-old/`. */
  oldSdkDist?: string;
  /** Answers a request it knows (true), else the pages are served. */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8' };

/** Bundles `entries` into `outdir` as an app's bundler does; `alias` points the SDK elsewhere. */
async function bundle(outdir: string, entries: Record<string, string>, alias?: Record<string, string>) {
  await build({
    entryPoints: Object.fromEntries(
      Object.entries(entries).map(([name, file]) => [name, join(import.meta.dirname, 'page', file)]),
    ),
    outdir,
    bundle: true,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    ...(alias ? { alias } : {}),
    // The SDK's own build triggers a harmless ignored-bare-import warning.
    logLevel: 'error',
  });
}

/**
 * Builds the pages and serves them on 127.0.0.1. `collector()` gives the base URL written into the page,
 * read per request: the server starts before the collector, whose CORS list needs this origin.
 */
export async function startPageServer(
  collector: () => string,
  options: PageServerOptions = {},
): Promise<PageServer> {
  const dir = await mkdtemp(join(tmpdir(), 'devicelink-idbench-page-'));
  const current = join(dir, 'current');
  const old = join(dir, 'old');
  await bundle(current, { app: 'bench-page.ts', edge: 'edge-page.ts' });
  if (options.oldSdkDist) {
    await bundle(
      old,
      { edge: 'edge-page.ts' },
      {
        '@devicelink/sdk/axios': join(options.oldSdkDist, 'axios.js'),
        '@devicelink/sdk': join(options.oldSdkDist, 'index.js'),
      },
    );
  }
  const page = (script: string, config: string) => () =>
    '<!doctype html><html><head><meta charset="utf-8"><title>identity bench</title>' +
    `<script>window.${config} = ${JSON.stringify({ collector: collector(), api: options.api?.() ?? '' })};</script>` +
    `<script type="module" src="${script}"></script></head><body>bench</body></html>`;
  // URL prefix: the built files it serves, and the page every other path under it answers (a route of
  // the app: a reload of a client-side route works).
  const sites: [string, string, () => string][] = [
    ['/app/', current, page('/app/app.js', 'BENCH_CONFIG')],
    ['/edge/', current, page('/edge/edge.js', 'EDGE_CONFIG')],
    ...(options.oldSdkDist
      ? [['/edge-old/', old, page('/edge-old/edge.js', 'EDGE_CONFIG')] as [string, string, () => string]]
      : []),
  ];
  const server = createServer(async (req, res) => {
    if (options.extra?.(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/blank.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>blank</title>');
      return;
    }
    const site = sites.find(([prefix]) => path.startsWith(prefix));
    if (!site) {
      res.writeHead(404).end();
      return;
    }
    const [prefix, root, html] = site;
    const file = normalize(join(root, path.slice(prefix.length)));
    const type = TYPES[extname(file)];
    if (type && file.startsWith(root)) {
      try {
        res.writeHead(200, { 'content-type': type }).end(await readFile(file));
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    appUrl: `${origin}/app/`,
    blankUrl: `${origin}/blank.html`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
