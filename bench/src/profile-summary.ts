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
