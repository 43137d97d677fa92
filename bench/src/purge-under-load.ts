/**
 * Ingest and persistence while a purge runs (docs/protocol.md, Erasure): a collector with its persister on
 * takes a steady stream of page views (4 clients, each a request of one page view every 100 ms) before,
 * during and after the purge; per phase, the collector's answers (202 or not, latency) and each accepted page
 * view's lag from its 202 to its row being visible in Postgres, and whether any accepted page view is missing
 * at the end.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { uuidv7 } from '@devicelink/protocol';
import pg from 'pg';

const CLIENTS = 4;
const PAUSE_MS = 100;
const BEFORE_MS = 5_000;
const AFTER_MS = 3_000;
/** How long an accepted page view may take to appear before it counts as missing. */
const MISSING_AFTER_MS = 30_000;

type Phase = 'before' | 'during' | 'after';

/** The figures of one phase. */
export interface PhaseFigures {
  phase: Phase;
  requests: number;
  /** Answers other than 202 (a 503 would be ingest refusing; none expected). */
  refused: number;
  answerP50Ms: number;
  answerP95Ms: number;
  answerMaxMs: number;
  /** From the 202 to the row visible in Postgres. */
  lagP50Ms: number;
  lagP95Ms: number;
  lagMaxMs: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/**
 * Sends the load to `collectorUrl` for 5 s, runs `purge` under it, keeps the load 3 s more, then waits
 * (at most 30 s) for every accepted page view to be a row in `databaseUrl`.
 */
export async function ingestDuringPurge<T>(
  collectorUrl: string,
  databaseUrl: string,
  purge: () => Promise<T>,
): Promise<{ result: T; purgeSeconds: number; phases: PhaseFigures[]; accepted: number; missing: number }> {
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on('error', () => {});
  await db.connect();
  let phase: Phase = 'before';
  const answers: Record<Phase, number[]> = { before: [], during: [], after: [] };
  const refused: Record<Phase, number> = { before: 0, during: 0, after: 0 };
  const lags: Record<Phase, number[]> = { before: [], during: [], after: [] };
  // Accepted and not yet seen in Postgres: event id -> [device, 202 time, phase].
  const pending = new Map<string, [string, number, Phase]>();
  let accepted = 0;
  let sending = true;

  const client = async () => {
    // A device of its own per client, valid by the protocol's id rules.
    const device = randomBytes(16).toString('base64url');
    while (sending) {
      const sentIn = phase;
      const id = uuidv7();
      const s = performance.now();
      const res = await fetch(`${collectorUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-device-fingerprint': device },
        body: JSON.stringify({ events: [{ type: 'pageview', url: 'https://shop.test/during-purge', id }] }),
      }).catch(() => null);
      await res?.arrayBuffer().catch(() => {});
      const at = performance.now();
      answers[sentIn].push(at - s);
      if (res?.status === 202) {
        accepted++;
        pending.set(id, [device, at, sentIn]);
      } else refused[sentIn]++;
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  };
  let polling = true;
  const poller = (async () => {
    while (polling || pending.size > 0) {
      if (pending.size > 0) {
        // The snapshot is taken when the query starts: a row found was visible by then.
        const asked = performance.now();
        const ids = [...pending.keys()];
        const { rows } = await db.query<{ id: string }>(
          'select event_id::text as id from page_views where device_id = any($1::text[]) and event_id = any($2::uuid[])',
          [[...new Set(ids.map((id) => pending.get(id)![0]))], ids],
        );
        for (const { id } of rows) {
          const [, at, p] = pending.get(id)!;
          lags[p].push(Math.max(0, asked - at));
          pending.delete(id);
        }
      }
      if (!polling && pending.size > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const clients = Array.from({ length: CLIENTS }, client);
  await new Promise((r) => setTimeout(r, BEFORE_MS));
  phase = 'during';
  const p0 = performance.now();
  const result = await purge();
  const purgeSeconds = (performance.now() - p0) / 1000;
  phase = 'after';
  await new Promise((r) => setTimeout(r, AFTER_MS));
  sending = false;
  await Promise.all(clients);
  // Every accepted page view must arrive: wait for the last ones, then stop the poller.
  const deadline = performance.now() + MISSING_AFTER_MS;
  while (pending.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  polling = false;
  await poller;
  await db.end();

  const phases = (['before', 'during', 'after'] as const).map((p): PhaseFigures => {
    const a = answers[p].sort((x, y) => x - y);
    const l = lags[p].sort((x, y) => x - y);
    return {
      phase: p,
      requests: a.length,
      refused: refused[p],
      answerP50Ms: quantile(a, 0.5),
      answerP95Ms: quantile(a, 0.95),
      answerMaxMs: a.at(-1) ?? Number.NaN,
      lagP50Ms: quantile(l, 0.5),
      lagP95Ms: quantile(l, 0.95),
      lagMaxMs: l.at(-1) ?? Number.NaN,
    };
  });
  return { result, purgeSeconds, phases, accepted, missing: pending.size };
}
