/**
 * Reads the V8 CPU profiles (`node --cpu-prof`) the collectors wrote during a `--profile` run and
 * prints where their time went: self time by function and by package, idle excluded.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { printTable } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Where a script lives: the npm package, the workspace package, or Node itself. */
function packageOf(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ws = /\/(packages|apps)\/([^/]+)\//.exec(url);
  return ws ? `@devicelink/${ws[2]}` : url;
}

/** Prints the hot functions and packages of every profile in `dir`; returns the rows. */
export function summarizeProfiles(dir: string, top = 15): Record<string, string | number>[] {
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length) / 1000;
    for (const node of profile.nodes) {
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)' || functionName === '(program)' || !node.hitCount) continue;
      const ms = node.hitCount * interval;
      total += ms;
      const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
      const pkg = functionName === '(garbage collector)' ? '(garbage collector)' : packageOf(url);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    }
  }
  const rank = (m: Map<string, number>, label: string) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({
        [label]: k,
        'self ms': Math.round(ms),
        share: `${((ms / total) * 100).toFixed(1)}%`,
      }));
  const packages = rank(byPackage, 'package');
  const functions = rank(byFunction, 'function');
  printTable(packages);
  console.log('');
  printTable(functions);
  return [...packages, ...functions];
}

/**
 * What each feature of the collector costs, as shares of its profiled CPU: a sample goes to the
 * innermost frame of the stack that a feature rule names (the workspace functions that do that work),
 * else to the package of the function it was in. The shares sum to 100%.
 */
const FEATURES: [feature: string, test: (fn: string, pkg: string) => boolean][] = [
  ['body: JSON and the events parser', (fn) => fn === 'parseJsonText' || fn === 'parseEventsBody'],
  ['bot classification and network hash', (fn) => fn === 'trafficOf'],
  ['rate and new-id limits: counter names', (fn) => fn === 'plan' || fn === 'limitCounters'],
  ['queued records: JSON', (fn) => fn === 'encodeRecord'],
  // The answer's write runs inside the last onSend hook when the hooks call done synchronously: without
  // this rule the socket write would count as the plugin's onSend.
  [
    'reply: serialise, headers and socket write',
    (fn, pkg) => pkg === 'fastify' && /^(onSendEnd|writePayload|serialize)$/.test(fn),
  ],
  [
    'device lookup, echo headers, cookie',
    (fn, pkg) =>
      pkg === '@devicelink/fastify' &&
      /^(onRequest|onSend|answerDevice|finishDevice|resolveDevice)$/.test(fn),
  ],
  ['cookies (@fastify/cookie)', (_fn, pkg) => pkg === '@fastify/cookie'],
  ['metrics (prom-client)', (_fn, pkg) => pkg === 'prom-client'],
  ['logging (pino)', (_fn, pkg) => pkg === 'pino' || pkg === 'pino-std-serializers'],
];

/** The categories of a profile's samples, ms each, in `dir`'s profiles. */
export function featureShares(dir: string): { feature: string; ms: number; share: number }[] {
  const byFeature = new Map<string, number>();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length) / 1000;
    const parent = new Map<number, ProfileNode>();
    for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node);
    for (const node of profile.nodes) {
      const { functionName, url } = node.callFrame;
      if (functionName === '(idle)' || functionName === '(program)' || !node.hitCount) continue;
      let category: string | null = functionName === '(garbage collector)' ? 'garbage collector' : null;
      for (let n: ProfileNode | undefined = node; category === null && n; n = parent.get(n.id)) {
        const pkg = packageOf(n.callFrame.url);
        category = FEATURES.find(([, test]) => test(n!.callFrame.functionName, pkg))?.[0] ?? null;
      }
      category ??= packageOf(url);
      const ms = node.hitCount * interval;
      total += ms;
      byFeature.set(category, (byFeature.get(category) ?? 0) + ms);
    }
  }
  return [...byFeature.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([feature, ms]) => ({ feature, ms, share: total > 0 ? ms / total : 0 }));
}
