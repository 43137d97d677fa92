#!/usr/bin/env node
// The benchmark figures the READMEs quote, generated from bench/results/*.json (the recorded runs), so a
// quoted figure is always one a recorded run measured. `node scripts/readme-figures.mjs` rewrites the
// generated blocks of README.md, bench/README.md and packages/sdk/README.md (the targets table, the
// SDK's sizes, and one block per step: `<!-- figures:<step>:start … -->`, whose text
// scripts/readme-figures-blocks.mjs makes); `--check` (run by `npm run lint`) fails when a block differs
// from what the results give, and names the results recorded at a commit whose source has changed
// since (a warning: recording needs a quiet machine, not every commit; `--strict` makes it an error,
// for checking a fresh recording at HEAD). A step whose results file is missing is written as "not
// recorded".
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillBlocks } from './readme-figures-blocks.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(root, 'bench', 'results');
const FILES = ['README.md', join('bench', 'README.md'), join('packages', 'sdk', 'README.md')];
/** The source folders whose change makes a recorded figure stale. */
const SOURCES = [
  'packages/protocol/src',
  'packages/fastify/src',
  'packages/persister/src',
  'apps/collector/src',
];

/** The recorded results by step name (summary.json is the run's, not a step's). */
const results = new Map(
  readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json') && f !== 'summary.json')
    .sort()
    .map((f) => JSON.parse(readFileSync(join(resultsDir, f), 'utf8')))
    .map((r) => [r.name, r]),
);

/** Results whose recording commit is older than the last change to the sources (or unknown). */
function stale() {
  const out = [];
  for (const r of results.values()) {
    const commit = r.machine?.commit;
    if (!commit) {
      out.push(`${r.name}: no commit recorded`);
      continue;
    }
    try {
      execFileSync('git', ['diff', '--quiet', commit, 'HEAD', '--', ...SOURCES], { cwd: root });
    } catch {
      out.push(`${r.name}: the sources changed since ${commit.slice(0, 10)}`);
    }
  }
  return out;
}

const check = process.argv.includes('--check') || process.argv.includes('--strict');
const strict = process.argv.includes('--strict');
let drift = false;
for (const file of FILES) {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  const next = fillBlocks(text, results);
  if (next === text) continue;
  if (check) {
    console.error(
      `${file}: the benchmark figures differ from bench/results; run node scripts/readme-figures.mjs`,
    );
    drift = true;
  } else {
    writeFileSync(path, next);
    console.log(`${file}: figures written`);
  }
}
const old = stale();
for (const line of old) console.warn(`readme-figures: stale: ${line}`);
if (drift || (strict && old.length > 0)) process.exit(1);
