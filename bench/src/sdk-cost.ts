/**
 * Benchmark 6: the SDK's weight and its cost per app request.
 * - Sizes: each built dist file as is and gzipped (zlib, level 9), and as a browser bundle would ship it
 *   (esbuild: bundled with @devicelink/protocol, minified, axios and FingerprintJS left out), plus the
 *   FingerprintJS chunk the core loads lazily.
 * - Interceptor: the request and response handlers `attachAxios` installs, called as axios calls them
 *   while a device id is stored (the request gets the header, the echo is checked); a whole axios
 *   request with an adapter that answers at once is shown for scale.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { STORAGE_KEY } from '@devicelink/protocol';
import axios, { type AxiosAdapter, AxiosHeaders, type AxiosInstance } from 'axios';
import { build } from 'esbuild';
import { Bench } from 'tinybench';
import { fmt, type SectionResult } from './report.js';

const BATCH = 1_000;
const STORED_ID = '0123456789abcdef0123456789abcdef';

const sdkDir = dirname(createRequire(import.meta.url).resolve('@devicelink/sdk/package.json'));
const gzip = (bytes: Uint8Array | string) => gzipSync(bytes, { level: 9 }).length;

async function bundled(entry: string, external: string[]): Promise<Uint8Array> {
  const out = await build({
    absWorkingDir: sdkDir,
    stdin: { contents: entry, resolveDir: sdkDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external,
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.contents;
}

async function sizes() {
  const external = ['axios', '@fingerprintjs/fingerprintjs'];
  const file = (name: string) => readFileSync(join(sdkDir, 'dist', name));
  const core = file('index.js');
  const axiosEntry = file('axios.js');
  const coreBundle = await bundled(`export * from './dist/index.js';`, external);
  const axiosBundle = await bundled(`export * from './dist/axios.js';`, external);
  // What the core's `import('@fingerprintjs/fingerprintjs')` fetches: the library, bundled and minified.
  const fingerprint = await bundled(`export { load } from '@fingerprintjs/fingerprintjs';`, []);
  const row = (name: string, dist: Uint8Array | null, bundle: Uint8Array) => ({
    part: name,
    'dist bytes': dist ? dist.length : 'n/a',
    'dist gzip': dist ? gzip(dist) : 'n/a',
    'min bytes': bundle.length,
    'min+gzip': gzip(bundle),
  });
  return [
    row('core (@devicelink/sdk)', core, coreBundle),
    row('axios entry (@devicelink/sdk/axios)', axiosEntry, axiosBundle),
    row('FingerprintJS chunk (lazy)', null, fingerprint),
  ];
}

/** One entry of `size-limit --json`: what the SDK's budgets (packages/sdk/.size-limit.mjs) measure. */
interface Budget {
  name: string;
  size: number;
  sizeLimit: number;
  passed: boolean;
}

/** The SDK's size budgets as CI checks them (size-limit: min+gzip, ESM, its own esbuild settings). */
function budgets(): Budget[] {
  const out = execFileSync('pnpm', ['exec', 'size-limit', '--json'], {
    cwd: sdkDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.slice(out.indexOf('['))) as Budget[];
}

/** Minimal browser globals the SDK reads: the page location and a localStorage holding an id. */
function installGlobals(): () => void {
  const store = new Map<string, string>([[STORAGE_KEY, STORED_ID]]);
  const localStorage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, String(v)),
    removeItem: (k: string) => void store.delete(k),
    clear: () => store.clear(),
    key: (i: number) => [...store.keys()][i] ?? null,
    get length() {
      return store.size;
    },
  };
  const g = globalThis as Record<string, unknown>;
  const saved = { localStorage: g.localStorage, location: g.location, window: g.window };
  const location = { href: 'https://shop.example/products', origin: 'https://shop.example' };
  const noop = () => {};
  g.localStorage = localStorage;
  g.location = location;
  // The SDK keeps no id without a `window` (server-side rendering): a minimal one, no listeners kept.
  g.window = {
    localStorage,
    location,
    addEventListener: noop,
    removeEventListener: noop,
    document: { addEventListener: noop, removeEventListener: noop, visibilityState: 'visible', referrer: '' },
  };
  return () => {
    g.localStorage = saved.localStorage;
    g.location = saved.location;
    g.window = saved.window;
  };
}

async function interceptorCost(full: boolean) {
  const restore = installGlobals();
  try {
    const { createDeviceLink } = await import('@devicelink/sdk');
    const { attachAxios } = await import('@devicelink/sdk/axios');
    // Answers at once, echoing the id it got, so only axios and the interceptors are measured.
    const adapter: AxiosAdapter = async (config) => ({
      data: { ok: true },
      status: 200,
      statusText: 'OK',
      headers: { 'x-device-fingerprint': String(config.headers.get('X-Device-Fingerprint') ?? '') },
      config,
    });
    const plain: AxiosInstance = axios.create({ baseURL: 'https://shop.example/api', adapter });
    const withSdk: AxiosInstance = axios.create({ baseURL: 'https://shop.example/api', adapter });
    const dl = createDeviceLink({ collector: 'https://collect.shop.example', autoPageviews: false });
    attachAxios(withSdk, dl);
    const check = await withSdk.get('/cart');
    if (check.config.headers.get('X-Device-Fingerprint') !== STORED_ID) {
      throw new Error('the interceptor did not attach the stored id; the measurement would be meaningless');
    }
    // The handlers axios calls for each request and response, called directly: axios's own work (about
    // a hundred microseconds a request here) would bury a sub-microsecond difference in noise.
    type Handler = { fulfilled: (v: any) => any };
    const reqHandler = (withSdk.interceptors.request as unknown as { handlers: Handler[] }).handlers[0]!;
    const resHandler = (withSdk.interceptors.response as unknown as { handlers: Handler[] }).handlers[0]!;
    const config = {
      url: '/cart',
      baseURL: 'https://shop.example/api',
      method: 'get',
      headers: new AxiosHeaders(),
    };
    const response = { status: 200, config, headers: { 'x-device-fingerprint': STORED_ID }, data: null };
    const bench = new Bench({ time: full ? 2_000 : 300, warmupTime: full ? 500 : 100 });
    bench
      .add('interceptors (request + response)', () => {
        for (let i = 0; i < BATCH; i++) {
          config.headers = new AxiosHeaders();
          resHandler.fulfilled(reqHandler.fulfilled(config) && response);
        }
      })
      .add('fresh AxiosHeaders alone (subtracted)', () => {
        for (let i = 0; i < BATCH; i++) config.headers = new AxiosHeaders();
      })
      .add('whole axios request, no interceptors', async () => {
        for (let i = 0; i < BATCH / 10; i++) await plain.get('/cart');
      });
    await bench.run();
    dl.stop();
    const perCall = (i: number, n: number) => {
      const r = bench.tasks[i]!.result as { period?: number } | undefined;
      return r?.period ? (r.period * 1e6) / n : Number.NaN;
    };
    const interceptNs = perCall(0, BATCH) - perCall(1, BATCH);
    return { addedNs: interceptNs, axiosRequestUs: perCall(2, BATCH / 10) / 1000 };
  } finally {
    restore();
  }
}

/** Runs benchmark 6. */
export async function runSdkCost(options: { full: boolean }): Promise<SectionResult> {
  const started = performance.now();
  const sizeRows = await sizes();
  const limits = budgets();
  const cost = await interceptorCost(options.full);
  return {
    name: 'sdk',
    title: '6. SDK: bundle sizes (bytes) and the axios interceptors per request',
    figures: { sizes: sizeRows, budgets: limits, interceptor: cost },
    rows: [
      ...sizeRows,
      { part: 'interceptors per request, id stored', 'time per call': `${fmt(cost.addedNs)} ns` },
      { part: 'whole axios request (context)', 'time per call': `${fmt(cost.axiosRequestUs)} µs` },
    ],
    targets: limits.map((b) => ({
      name: `size-limit: ${b.name}`,
      measured: `${b.size.toLocaleString('en-US')} B`,
      limit: `≤ ${b.sizeLimit.toLocaleString('en-US')} B`,
      met: b.passed,
    })),
    notes: [
      'min+gzip: esbuild bundle with @devicelink/protocol inlined, axios and FingerprintJS external, gzip level 9',
      'interceptor time runs in Node with minimal globals (window, location, localStorage), not in a browser',
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
