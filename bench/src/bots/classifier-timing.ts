/**
 * The classifier part of benchmark `bots`: what the collector's bot filter costs per call over labelled
 * user agents: the pinned crawler corpus (monperrus/crawler-user-agents, MIT, `@devicelink/fastify/testing`)
 * and common scripted clients as `listed`, current browsers as `people`, headless and driven browsers as
 * `automation`. Timed per user agent in batches (single calls are too short for the timer), through the
 * memoised classifier the plugin uses and through the bare list; a 16 KB user agent on its own.
 */
import { classifyUserAgent, createTrafficClassifier } from '@devicelink/fastify';
import { BOT_USER_AGENTS } from '@devicelink/fastify/testing';
import { AUTOMATION_USER_AGENTS, PEOPLE_USER_AGENTS, SCRIPTED_USER_AGENTS } from './labelled-agents.js';

/** Calls per timed batch. */
const BATCH = 200;

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/** Nanoseconds per call of `classify(ua)`, the median of `rounds` batches. */
function nsPerCall(classify: (ua: string) => unknown, ua: string, rounds: number): number {
  const samples: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) sink += classify(ua) === null ? 0 : 1;
    samples.push(Number(process.hrtime.bigint() - start) / BATCH);
  }
  if (sink === 0) throw new Error('unreachable: keeps the calls from being optimised away');
  return percentile(
    samples.sort((a, b) => a - b),
    50,
  );
}

/** What the microbenchmark measured. */
export interface ClassifierTiming {
  labelled: number;
  listed: { total: number; caught: number };
  automation: { total: number; caught: number };
  people: { total: number; marked: number };
  /** Per call through the plugin's memoised classifier, ns (p50 and p99 across user agents). */
  memoNs: { p50: number; p99: number };
  /** Per call without the memo (the isbot list and the markers), ns. */
  noMemoNs: { p50: number; p99: number };
  /** One 16 KB user agent, ns per call. */
  hugeNs: number;
}

/** Times the classifier over the labelled user agents (`rounds` batches each). */
export function timeClassifier(rounds: number): ClassifierTiming {
  const listed = [...BOT_USER_AGENTS, ...SCRIPTED_USER_AGENTS];
  const labelled = [...listed, ...PEOPLE_USER_AGENTS, ...AUTOMATION_USER_AGENTS];
  const traffic = createTrafficClassifier();
  // Warm-up: JIT and the memo, as on a collector that has seen these user agents before.
  for (let i = 0; i < 3; i++) for (const ua of labelled) traffic.classify(ua);
  const memo = labelled.map((ua) => nsPerCall((u) => traffic.classify(u), ua, rounds)).sort((a, b) => a - b);
  const bare = labelled.map((ua) => nsPerCall(classifyUserAgent, ua, rounds)).sort((a, b) => a - b);
  const huge = `${PEOPLE_USER_AGENTS[0]} ${'x'.repeat(16 * 1024)}`;
  const hugeNs = nsPerCall((u) => traffic.classify(u), huge, rounds);
  return {
    labelled: labelled.length,
    listed: {
      total: listed.length,
      caught: listed.filter((ua) => classifyUserAgent(ua).class !== 'human').length,
    },
    automation: {
      total: AUTOMATION_USER_AGENTS.length,
      caught: AUTOMATION_USER_AGENTS.filter((ua) => classifyUserAgent(ua).class === 'automation').length,
    },
    people: {
      total: PEOPLE_USER_AGENTS.length,
      marked: PEOPLE_USER_AGENTS.filter((ua) => classifyUserAgent(ua).class !== 'human').length,
    },
    memoNs: { p50: percentile(memo, 50), p99: percentile(memo, 99) },
    noMemoNs: { p50: percentile(bare, 50), p99: percentile(bare, 99) },
    hugeNs,
  };
}
