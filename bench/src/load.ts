/**
 * The load generator: autocannon against `POST /v1/events` with what a browser's SDK sends. Every
 * request picks a device from a pool (header and matching cookie, as after a first visit) and carries
 * fresh event ids (UUIDv7), so the dedupe window never swallows a request.
 */
import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@devicelink/protocol';
import autocannon from 'autocannon';

/** `count` device ids shaped like FingerprintJS visitorIds (32 hex characters). */
export function devicePool(count: number): string[] {
  const bytes = randomBytes(count * 16);
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) ids[i] = bytes.subarray(i * 16, i * 16 + 16).toString('hex');
  return ids;
}

const PAGES = ['/', '/products', '/products/42', '/cart', '/checkout', '/blog/launch?utm_source=news'];

/** A JSON body of `n` page views with new ids. */
function eventsBody(n: number, now = Date.now()): string {
  const events = new Array(n);
  for (let i = 0; i < n; i++) {
    events[i] = {
      type: 'pageview',
      url: `https://shop.example${PAGES[i % PAGES.length]}`,
      referrer: 'https://www.google.com/',
      id: uuidv7(now),
      ts: now,
    };
  }
  return JSON.stringify({ events });
}

/** Options of one load run. */
export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  eventsPerRequest: number;
  devices: readonly string[];
  /** Fixed total rate, requests per second (`autocannon -R`); unlimited when absent. */
  rate?: number;
}

/** What a run measured. */
export interface LoadResult {
  connections: number;
  eventsPerRequest: number;
  seconds: number;
  /** 2xx answers per second over the run. */
  reqPerSec: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers that were not 2xx, plus socket errors and timeouts. */
  failures: number;
  total2xx: number;
}

/** Runs autocannon for `seconds` and returns the figures. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { devices, eventsPerRequest } = options;
  const result = await autocannon({
    url: `${options.url}/v1/events`,
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (req: any) => {
          const device = devices[(Math.random() * devices.length) | 0]!;
          return {
            ...req,
            headers: {
              'content-type': 'application/json',
              'x-device-fingerprint': device,
              cookie: `device_fp=${device}`,
              'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
              'accept-language': 'en-US,en;q=0.9',
            },
            body: eventsBody(eventsPerRequest),
          };
        },
      },
    ],
  } as autocannon.Options);
  const total2xx = result['2xx'];
  const seconds = result.duration;
  return {
    connections: options.connections,
    eventsPerRequest,
    seconds,
    reqPerSec: total2xx / seconds,
    eventsPerSec: (total2xx * eventsPerRequest) / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    total2xx,
  };
}
