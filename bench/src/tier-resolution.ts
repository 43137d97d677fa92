/**
 * Benchmark 1: the tiered lookup, in nanoseconds per request, through the plugin itself. A minimal
 * app with the plugin (memory stores) answers one injected request per tier; the bench keeps that
 * request object and re-runs its lookup by clearing the plugin's per-request memo (tier 1) before each
 * read of `request.deviceId`. The server tier also computes the visitorHash it stores beside the id.
 */
import devicelink, { createMemoryStore } from '@devicelink/fastify';
// Types of `app.parseCookie`, which the plugin registers.
import type {} from '@fastify/cookie';
import Fastify, { type FastifyRequest } from 'fastify';
import { Bench } from 'tinybench';
import { type SectionResult, target } from './report.js';

/** Reads per benchmark iteration: single calls are too short for the timer. */
const BATCH = 1_000;
const DEVICE = '0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210';

/**
 * The old design's figures, GIVEN in its design card and never measured here (the old code is not in
 * this repository): shown as given, never as a measured figure or a ratio to one.
 */
const OLD_HEADER_NS = 100_000;
const OLD_SERVER_NS = { low: 10_000_000, high: 20_000_000 };

type Memo = { resolved: unknown; cookie: string | undefined };

async function captureRequests() {
  const app = Fastify({ logger: false });
  const store = createMemoryStore();
  await app.register(devicelink, { store });
  const captured: FastifyRequest[] = [];
  app.get('/t', { config: { devicelink: true } }, async (request) => {
    captured.push(request);
    return { id: request.deviceId };
  });
  await app.ready();
  const ua = { 'user-agent': 'Mozilla/5.0 Chrome/131.0', 'accept-language': 'en-US' };
  await app.inject({
    url: '/t',
    headers: { ...ua, 'x-device-fingerprint': DEVICE, cookie: `device_fp=${DEVICE}` },
  });
  await app.inject({ url: '/t', headers: { ...ua, cookie: `device_fp=${DEVICE}` } });
  await app.inject({ url: '/t', headers: ua });
  await app.inject({
    url: '/t',
    headers: { ...ua, 'x-device-fingerprint': DEVICE, cookie: `device_fp=${OTHER}` },
  });
  const [header, cookie, server, mismatch] = captured;
  // The plugin keeps its per-request state under a symbol it does not export; find it by description.
  const memoOf = (request: FastifyRequest): Memo => {
    const key = Object.getOwnPropertySymbols(request).find((s) => s.description === 'devicelink.state');
    if (!key) throw new Error('the plugin state symbol "devicelink.state" was not found on the request');
    return (request as unknown as Record<symbol, Memo>)[key]!;
  };
  return { app, header: header!, cookie: cookie!, server: server!, mismatch: mismatch!, memoOf };
}

/** Runs benchmark 1. */
export async function runTierResolution(options: { full: boolean }): Promise<SectionResult> {
  const started = performance.now();
  const { app, header, cookie, server, mismatch, memoOf } = await captureRequests();
  const states = new Map([header, cookie, server, mismatch].map((r) => [r, memoOf(r)]));
  let sink = 0;
  // Per request the plugin parses the Cookie header once (onRequest) and then runs the tiers; both
  // are measured.
  const lookup = (request: FastifyRequest, memo: Memo) => {
    const raw = request.headers.cookie;
    if (raw) memo.cookie = app.parseCookie(raw).device_fp;
    memo.resolved = undefined;
    return request.deviceId!;
  };
  const resolveBatch = (request: FastifyRequest) => () => {
    const memo = states.get(request)!;
    for (let i = 0; i < BATCH; i++) sink += lookup(request, memo).length;
  };
  const bench = new Bench({ time: options.full ? 2_000 : 300, warmupTime: options.full ? 500 : 100 });
  bench
    .add('header tier (X-Device-Fingerprint)', resolveBatch(header))
    .add('cookie tier (device_fp)', resolveBatch(cookie))
    .add('server tier: new id', resolveBatch(server))
    .add('server tier: new id + visitorHash', async () => {
      const memo = states.get(server)!;
      for (let i = 0; i < BATCH; i++) {
        sink += lookup(server, memo).length + (await app.devicelink.visitorHash(server)).length;
      }
    })
    .add('header ≠ cookie (alias detected)', resolveBatch(mismatch))
    .add('tier 1: memoised read', () => {
      for (let i = 0; i < BATCH; i++) sink += header.deviceId!.length;
    });
  await bench.run();
  await app.close();
  if (sink === 0) throw new Error('unreachable: keeps the reads from being optimised away');

  const nsPerRequest: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result as { period?: number } | undefined;
    nsPerRequest[task.name] = r?.period ? (r.period * 1e6) / BATCH : Number.NaN;
  }
  const headerNs = nsPerRequest['header tier (X-Device-Fingerprint)']!;
  const serverNs = nsPerRequest['server tier: new id + visitorHash']!;
  const rows = Object.entries(nsPerRequest).map(([name, ns]) => ({
    tier: name,
    'ns/request': ns,
    'old design (given, not measured)': name.startsWith('header')
      ? '100,000 ns (0.1 ms)'
      : name.startsWith('server')
        ? '10-20 ms'
        : '',
  }));
  return {
    name: 'tier-resolution',
    title: '1. Tier resolution (tinybench, through the plugin, ns per request)',
    figures: {
      nsPerRequest,
      batch: BATCH,
      oldDesignGiven: { headerNs: OLD_HEADER_NS, serverNs: OLD_SERVER_NS },
    },
    rows,
    targets: [
      target('header tier per request', headerNs / 1000, 2, ' µs', '<='),
      target('server tier per request (id + visitorHash)', serverNs / 1000, 20, ' µs', '<='),
    ],
    notes: [
      'each figure re-runs the plugin lookup on a real Fastify request after clearing its tier-1 memo, ' +
        'plus the Cookie header parse the onRequest hook does once per request',
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
