/**
 * Benchmark 4: memory. Redis bytes per live session (INFO used_memory growth over the sessions the
 * scale benchmark seeded, and MEMORY USAGE of session keys), per recently active device's dedupe set
 * and per queued event (after the persister-off ingest runs), the collector's RSS under load, and the
 * RAM projected for one million active anonymous sessions. Uses what benchmarks 2 and 5 measured.
 */
import type { BenchContext } from './bench-context.js';
import { fmt, type SectionResult, target } from './report.js';

const MILLION = 1_000_000;
const MiB = 2 ** 20;

/** Runs benchmark 4 (after ingest and scale). */
export async function runMemory(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const { sessionBytes, dedupeSetBytes, queueBytesPerEntry, rss } = ctx.shared;
  const perSession = sessionBytes?.usedMemoryDelta ?? null;
  const peakRss = Object.values(rss).length > 0 ? Math.max(...Object.values(rss)) : null;
  const projected = perSession === null ? null : perSession * MILLION;
  const projectedWithDedupe =
    perSession === null || dedupeSetBytes === undefined ? null : (perSession + dedupeSetBytes) * MILLION;
  const missing = (what: string) => `n/a (run the ${what} benchmark in the same run)`;
  const rows = [
    {
      figure: 'Redis per live session (INFO used_memory growth / sessions)',
      value: perSession === null ? missing('scale') : `${fmt(perSession)} B`,
    },
    {
      figure: 'Redis per live session (MEMORY USAGE of the session key)',
      value: sessionBytes ? `${fmt(sessionBytes.memoryUsage)} B` : missing('scale'),
    },
    {
      figure: 'dedupe set of a device active in the last 10 min (MEMORY USAGE)',
      value: dedupeSetBytes === undefined ? missing('ingest') : `${fmt(dedupeSetBytes)} B`,
    },
    {
      figure: 'Redis per queued event (stream MEMORY USAGE / XLEN)',
      value: queueBytesPerEntry === undefined ? missing('ingest') : `${fmt(queueBytesPerEntry)} B`,
    },
    {
      figure: 'collector RSS under load (peak over the runs)',
      value: peakRss === null ? missing('ingest') : `${fmt(peakRss / MiB)} MiB`,
    },
    {
      figure: '1,000,000 active anonymous sessions: Redis',
      value: projected === null ? missing('scale') : `${fmt(projected / MiB)} MiB`,
    },
    {
      figure: '  the same, all active in the last 10 min (with dedupe sets)',
      value: projectedWithDedupe === null ? 'n/a' : `${fmt(projectedWithDedupe / MiB)} MiB`,
    },
  ];
  return {
    name: 'memory',
    title: '4. Memory: Redis per session and per queued event, collector RSS, projection',
    figures: {
      sessionBytes,
      dedupeSetBytes,
      queueBytesPerEntry,
      collectorRssPeak: peakRss,
      collectorRssByRun: rss,
      projectedMillionSessionsBytes: projected,
      projectedMillionSessionsWithDedupeBytes: projectedWithDedupe,
    },
    rows,
    targets: [target('Redis bytes per live session', perSession, 300, ' B', '<=')],
    notes: [
      'sessions are measured as seeded by the scale benchmark (one page view each, then the queue and dedupe sets ' +
        'emptied: what remains is the session hash with its TTL); ' +
        'the projection adds no queue backlog: queued events cost the per-event figure until persisted',
      'the collector RSS does not grow with the session count: sessions live in Redis',
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
