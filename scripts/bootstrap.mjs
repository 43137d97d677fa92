#!/usr/bin/env node
// Root entry for every npm script: on a clean clone with only Node 20 it installs pnpm (the version in
// packageManager) and the workspace's dependencies, then runs the task. Kept dependency-free on purpose.
import { execSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = pkg.packageManager.split('@')[1];

function has(cmd) {
  return spawnSync(cmd, ['--version'], { encoding: 'utf8' }).stdout?.trim();
}
function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
/**
 * Runs a long-lived process (the collector), passing on the signals this script gets (Ctrl-C), and
 * stopping it when npm above it was stopped: it stops as it does when run alone, never left behind.
 */
function serve(cmd, args, extraEnv = {}) {
  const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  // npm does not pass on a SIGTERM sent to it (it exits): an orphaned script stops the collector.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) child.kill('SIGTERM');
  }, 500).unref();
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

if (has('pnpm') !== pnpmVersion) {
  console.log(`[devicelink] installing pnpm@${pnpmVersion}`);
  execSync(`npm install -g pnpm@${pnpmVersion}`, { stdio: 'inherit' });
}
if (!existsSync(join(root, 'node_modules', '.modules.yaml'))) {
  console.log('[devicelink] installing dependencies');
  run('pnpm', ['install', '--frozen-lockfile']);
}

const [task = 'test', ...rest] = process.argv.slice(2);
const turbo = (t, ...filters) => turboWith({}, t, ...filters);
function turboWith(env, t, ...filters) {
  run('pnpm', ['exec', 'turbo', 'run', t, ...filters, '--output-logs=errors-only'], env);
}

switch (task) {
  case 'build':
  case 'lint':
  case 'typecheck':
    if (task === 'lint') {
      run('pnpm', ['exec', 'biome', 'check', '.']);
      // The layering of the packages and the collector's folders (STYLE.md, Layout).
      run('node', ['scripts/check-imports.mjs']);
      // No source function over 60 lines, no file over 400, bar the listed exceptions (STYLE.md, Layout).
      run('node', ['scripts/check-size.mjs']);
      // The benchmark figures the READMEs quote agree with bench/results.
      run('node', ['scripts/readme-figures.mjs', '--check']);
      // The generator makes its blocks from whatever the results files hold (or "not recorded").
      run('node', ['--test', '--test-reporter=dot', 'scripts/readme-figures.test.mjs']);
      // .env.example, the configuration tables and turbo's pass-through list agree with the collector's
      // environment schema, read from its build (cached by turbo; CI has built it already).
      turbo('build', '--filter=@devicelink/collector');
      run('node', ['scripts/config-docs.mjs', '--check']);
      // No unused file, export or dependency (knip.jsonc says what counts as used).
      run('pnpm', ['exec', 'knip', '--no-progress']);
    } else turbo(task);
    break;
  case 'test':
    turbo('build');
    run('pnpm', ['exec', 'vitest', 'run', ...rest]);
    break;
  case 'test:unit':
    // The unit tests sit beside the code (`src/**/*.test.ts`); integration tests live in `test/` and
    // e2e. Without service variables nothing may reach Redis, Postgres or a browser (those suites skip).
    turbo('build');
    run(
      'pnpm',
      [
        'exec',
        'vitest',
        'run',
        '--project',
        'protocol',
        '--project',
        'sdk',
        '--project',
        'fastify',
        '--project',
        'collector',
        '--project',
        'dashboard',
        'src/',
        ...rest,
      ],
      {
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: '',
        DATABASE_URL: '',
        CHROMIUM_PATH: '',
        REQUIRE_SERVICES: '',
      },
    );
    break;
  case 'start':
  case 'demo':
    console.log(
      '[devicelink] building the collector, its packages and the dashboard (cached after the first time)',
    );
    // No type declarations: running needs none, and they are most of a cold build's time (`npm run
    // build`, `npm test` and `npm run pack` make them).
    turboWith(
      { DEVICELINK_BUILD_TYPES: '0' },
      'build',
      '--filter=@devicelink/collector...',
      '--filter=@devicelink/dashboard',
      ...(task === 'demo' ? ['--filter=@devicelink/demo'] : []),
    );
    serve('node', ['apps/collector/dist/server.js', ...rest], task === 'demo' ? { DEMO: '1' } : {});
    break;
  case 'pack': {
    // The publishable packages as tarballs in ./packs, built first (a fresh clone has no dist, and
    // `pnpm pack` alone cannot resolve the workspace protocol before an install).
    const packages = ['@devicelink/sdk', '@devicelink/fastify', '@devicelink/persister'];
    turbo('build', ...packages.map((p) => `--filter=${p}`));
    for (const p of packages) run('pnpm', ['--filter', p, 'pack', '--pack-destination', join(root, 'packs')]);
    console.log(`[devicelink] tarballs in ${join(root, 'packs')}`);
    break;
  }
  case 'bench':
    turbo('build');
    run('pnpm', ['--filter', '@devicelink/bench', 'run', 'bench', ...rest]);
    break;
  default:
    console.error(`unknown task ${task}`);
    process.exit(2);
}
