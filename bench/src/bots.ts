/**
 * Benchmark `bots` (bench/README.md, Bots: the classifier), the classifier part: what the collector's bot
 * filter costs per request and what it catches, over labelled user agents: the pinned crawler corpus
 * (monperrus/crawler-user-agents, MIT, `@devicelink/fastify/testing`) and common scripted clients as
 * `listed`, current browsers as `people`, headless and driven browsers as `automation`. Timed per user agent
 * in batches (single calls are too short for the timer), through the memoised classifier the plugin uses and
 * through the bare list; a 16 KB user agent on its own. The labelled traffic run (browsers, a NAT, a fleet
 * against one collector) is not part of this section yet.
 */
import { classifyUserAgent, createTrafficClassifier } from '@devicelink/fastify';
import { BOT_USER_AGENTS } from '@devicelink/fastify/testing';
import { fmt, type SectionResult, target } from './report.js';

/** Calls per timed batch. */
const BATCH = 200;

const PEOPLE = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0',
];
const SCRIPTED = ['curl/8.4.0', 'python-requests/2.31.0', 'Go-http-client/1.1', 'Wget/1.21.4', 'axios/1.7.2'];
const AUTOMATION = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/143.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) harvester/2.0 Chrome/120.0.6099.291 Electron/28.2.3 Safari/537.36',
];

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

/** Runs the classifier part of benchmark `bots`. */
export async function runBots(options: { full: boolean }): Promise<SectionResult> {
  const started = performance.now();
  const rounds = options.full ? 50 : 10;
  const listed = [...BOT_USER_AGENTS, ...SCRIPTED];
  const labelled = [...listed, ...PEOPLE, ...AUTOMATION];
  const traffic = createTrafficClassifier();
  // Warm-up: JIT and the memo, as on a collector that has seen these user agents before.
  for (let i = 0; i < 3; i++) for (const ua of labelled) traffic.classify(ua);
  const memo = labelled.map((ua) => nsPerCall((u) => traffic.classify(u), ua, rounds)).sort((a, b) => a - b);
  const bare = labelled.map((ua) => nsPerCall(classifyUserAgent, ua, rounds)).sort((a, b) => a - b);
  const huge = `${PEOPLE[0]} ${'x'.repeat(16 * 1024)}`;
  const hugeNs = nsPerCall((u) => traffic.classify(u), huge, rounds);

  const caught = listed.filter((ua) => classifyUserAgent(ua).class !== 'human').length;
  const automation = AUTOMATION.filter((ua) => classifyUserAgent(ua).class === 'automation').length;
  const peopleMarked = PEOPLE.filter((ua) => classifyUserAgent(ua).class !== 'human').length;
  const µs = (ns: number) => ns / 1000;
  const rows = [
    { measure: 'memoised classifier (the plugin), p50', 'µs/call': fmt(µs(percentile(memo, 50))) },
    { measure: 'memoised classifier, p99', 'µs/call': fmt(µs(percentile(memo, 99))) },
    {
      measure: 'without the memo (the isbot list and the markers), p50',
      'µs/call': fmt(µs(percentile(bare, 50))),
    },
    { measure: 'without the memo, p99', 'µs/call': fmt(µs(percentile(bare, 99))) },
    { measure: '16 KB user agent', 'µs/call': fmt(µs(hugeNs)) },
  ];
  return {
    name: 'bots',
    title: 'Bots: the classifier (labelled user agents, µs per call)',
    figures: {
      labelled: labelled.length,
      listed: { total: listed.length, caught },
      automation: { total: AUTOMATION.length, caught: automation },
      people: { total: PEOPLE.length, marked: peopleMarked },
      memoNs: { p50: percentile(memo, 50), p99: percentile(memo, 99) },
      noMemoNs: { p50: percentile(bare, 50), p99: percentile(bare, 99) },
      hugeNs,
    },
    rows,
    targets: [
      target('classifier p50 over the labelled user agents', µs(percentile(memo, 50)), 2, ' µs', '<='),
      target('classifier on a 16 KB user agent', µs(hugeNs), 20, ' µs', '<='),
      target('listed clients caught', (100 * caught) / listed.length, 99, '%', '>='),
      target('automation user agents caught', (100 * automation) / AUTOMATION.length, 95, '%', '>='),
      target('people marked non-human (user agents)', peopleMarked, 0, '', '<='),
    ],
    notes: [
      'classifier only: the labelled traffic run against a collector (people, a NAT control, automation, a fleet) and the ingest ratio with the filter on and off are not measured here yet',
      `without the memo: what a user agent the process has not seen costs (the LRU memo holds 10,000); ${labelled.length} labelled user agents`,
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
