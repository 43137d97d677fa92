/**
 * Benchmark 9 (bench/README.md, What each figure means): Redis stopped under load. A collector (persister
 * off) on a redis-server of the bench's own (AOF, `appendfsync everysec`; the shared Redis is never stopped)
 * takes steady load from 20 keep-alive clients; Redis gets a clean shutdown, stays away, and starts again
 * from its AOF. Every request is timed one by one (wrk reports no per-request timeline, hence this small
 * client): the longest answer and any answer slower than 1.5 s, the statuses (202 or 503 only), the accepted
 * events against the entries Redis holds afterwards (none may be lost), and the time from Redis being back to
 * the first 202 and to `/readyz` answering 200.
 */
import { uuidv7 } from '@devicelink/protocol';
import { startRedisServer } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import type { BenchContext } from './bench-context.js';
import { devicePool } from './load.js';
import { streamKeys } from './queue-depth.js';
import { fmt, type SectionResult, target } from './report.js';

const CLIENTS = 20;
const BEFORE_MS = 2_000;
const AWAY_MS = 3_000;
const AFTER_MS = 3_000;
const SLOW_MS = 1_500;

interface Sample {
  start: number;
  end: number;
  status: number;
  /** The event id when the answer was a 202 that accepted it. */
  accepted: string | null;
}

/** Every page view's event id in the partition streams under `prefix`. */
async function storedEventIds(redis: Redis, prefix: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const key of streamKeys(prefix)) {
    for (const [, fields] of await redis.xrange(key, '-', '+')) {
      const r = fields[fields.indexOf('r') + 1];
      const id = r ? (JSON.parse(r) as { eventId?: string }).eventId : undefined;
      if (id) ids.add(id);
    }
  }
  return ids;
}

/** Runs benchmark 9. */
export async function runOutage(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const redis = await startRedisServer('bench-outage', { aof: true });
  const devices = devicePool(1_000);
  const samples: Sample[] = [];
  const readyz: { at: number; status: number }[] = [];
  let stoppedAt = 0;
  let backAt = 0;
  try {
    const collector = await ctx.startCollector({ PERSISTER: 'off', REDIS_URL: redis.url });
    try {
      let running = true;
      const client = async () => {
        while (running) {
          const device = devices[(Math.random() * devices.length) | 0]!;
          const start = performance.now();
          let status = 0;
          let accepted: string | null = null;
          const id = uuidv7();
          try {
            const res = await fetch(`${collector.url}/v1/events`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-device-fingerprint': device },
              body: JSON.stringify({
                events: [{ type: 'pageview', url: 'https://shop.example/outage', id }],
              }),
              signal: AbortSignal.timeout(10_000),
            });
            status = res.status;
            const body = (await res.json()) as { accepted?: number };
            if (status === 202 && body.accepted === 1) accepted = id;
          } catch {
            status = -1;
          }
          samples.push({ start, end: performance.now(), status, accepted });
          // A 503 says Retry-After; a real client backs off, the bench keeps pressing (worst case).
        }
      };
      const probe = async () => {
        while (running) {
          const at = performance.now();
          const res = await fetch(`${collector.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(
            () => null,
          );
          readyz.push({ at, status: res?.status ?? -1 });
          await res?.arrayBuffer().catch(() => null);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const load = Promise.all([...Array.from({ length: CLIENTS }, client), probe()]);
      await new Promise((r) => setTimeout(r, BEFORE_MS));
      stoppedAt = performance.now();
      await redis.stop();
      await new Promise((r) => setTimeout(r, AWAY_MS));
      await redis.start();
      backAt = performance.now();
      await new Promise((r) => setTimeout(r, AFTER_MS));
      running = false;
      await load;
    } finally {
      await collector.stop();
    }
    // What Redis holds after a clean shutdown and a restart from its AOF, against what was accepted.
    const check = new Redis(redis.url);
    let storedIds: Set<string>;
    try {
      storedIds = await storedEventIds(check, ctx.prefix);
    } finally {
      check.disconnect();
    }
    const acceptedIds = samples.flatMap((s) => (s.accepted ? [s.accepted] : []));
    const accepted = acceptedIds.length;
    const stored = storedIds.size;
    const latencies = samples.map((s) => s.end - s.start);
    const slowest = Math.max(...latencies);
    const slow = latencies.filter((ms) => ms > SLOW_MS).length;
    const byStatus = new Map<number, number>();
    for (const s of samples) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
    const other = samples.filter((s) => s.status !== 202 && s.status !== 503).length;
    const firstAccepted = samples
      .filter((s) => s.status === 202 && s.end >= backAt)
      .reduce((m, s) => Math.min(m, s.end), Number.POSITIVE_INFINITY);
    const recoveryMs = Number.isFinite(firstAccepted) ? firstAccepted - backAt : null;
    const notReady = readyz.find((r) => r.at >= stoppedAt && r.status !== 200);
    const readyAgain = readyz.find((r) => r.at >= backAt && r.status === 200);
    // Exact: every id a 202 accepted must be in a stream (a 503 whose script ran anyway adds extra ones).
    const lost = acceptedIds.filter((id) => !storedIds.has(id)).length;
    const figures = {
      requests: samples.length,
      byStatus: Object.fromEntries(byStatus),
      slowestMs: slowest,
      slowerThan1500Ms: slow,
      accepted,
      storedAfterRestart: stored,
      lost,
      recoveryMs,
      readyzNotReadyAfterMs: notReady ? notReady.at - stoppedAt : null,
      readyzReadyAfterMs: readyAgain ? readyAgain.at - backAt : null,
      clients: CLIENTS,
      awayMs: AWAY_MS,
    };
    return {
      name: 'outage',
      title: '9. Redis stopped under load (own redis-server, AOF everysec, clean shutdown)',
      figures,
      rows: [
        {
          requests: samples.length,
          '202': byStatus.get(202) ?? 0,
          '503': byStatus.get(503) ?? 0,
          other,
          'slowest ms': slowest,
          '> 1.5 s': slow,
          accepted,
          'stored after restart': stored,
          lost,
          'first 202 after Redis back, ms': recoveryMs ?? 'none',
          'readyz 200 after Redis back, ms': figures.readyzReadyAfterMs ?? 'never',
        },
      ],
      targets: [
        target(
          'Redis away: slowest answer (every one 202 or 503)',
          other > 0 ? null : slowest,
          SLOW_MS,
          ' ms',
          '<=',
        ),
        target('accepted events lost over a clean Redis shutdown and restart', lost, 0, '', '<='),
        target('first 202 after Redis returned', recoveryMs, 2_000, ' ms', '<='),
      ],
      notes: [
        `${CLIENTS} keep-alive clients sending one page view per request without pause, Redis away for ` +
          `${fmt(AWAY_MS / 1000)} s after ${fmt(BEFORE_MS / 1000)} s of load; /readyz said not ready ` +
          `${fmt(figures.readyzNotReadyAfterMs)} ms after the stop`,
        'stored: event ids in the partition streams after the restart (persister off, so every accepted one ' +
          'must be there); lost: ids a 202 accepted that are not',
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await redis.close();
  }
}
