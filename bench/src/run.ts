/**
 * `npm run bench`: runs the benchmarks in order, prints a table per benchmark and a summary of the
 * targets, and writes `<name>.json` (with the machine and the mode) for each into `bench/out/`
 * (untracked), or into `bench/results/` with `--record` (the committed figures the READMEs quote).
 *
 * Flags: `--full` (long windows, a million stored sessions; also BENCH_FULL=1), `--only=a,b` (a subset,
 * by result name; a bare name such as `identity` means the same), `--profile` (the servers write V8
 * CPU profiles to `<out>/profiles/<server>/` and the hottest functions of each are printed), `--record`,
 * `--minutes=N` (the fuzz step's load; also BENCH_FUZZ_MINUTES; 2, or 30 with `--full`). The fuzz step
 * runs only when named: `npm run bench -- fuzz`.
 *
 * It shares the machine: Redis is the database `REDIS_URL` names, with every key under a run prefix
 * deleted at the end; Postgres a fresh database on the `DATABASE_URL` server, dropped at the end.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { testEnv } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createContext } from './bench-context.js';
import { benchServices, checkServices, createBenchDatabase } from './bench-env.js';
import { runBots } from './bots/bots.js';
import { runDashboard } from './dashboard.js';
import { runEmbedded } from './embedded.js';
import { runFaults } from './faults.js';
import { FULL_MINUTES, QUICK_MINUTES, runFuzz } from './fuzz/fuzz.js';
import { runIdentity } from './identity/identity.js';
import { runIngest } from './ingest.js';
import { runMemory } from './memory.js';
import { runOldDesignRace } from './old-design-race.js';
import { runOutage } from './outage.js';
import { runPersistence } from './persistence.js';
import { runPersisters } from './persisters.js';
import { featureShares, summarizeProfiles } from './profile-summary.js';
import {
  describeMachine,
  printSection,
  printTable,
  printTargets,
  RECORDED_DIR,
  SCRATCH_DIR,
  type SectionResult,
  type Target,
  writeResult,
} from './report.js';
import { runScale } from './scale.js';
import { runSdkCost } from './sdk-cost.js';
import type { ServerProcess } from './server-process.js';
import { runStatsPlan } from './stats-plan.js';
import { runTableMigration } from './table-migration.js';
import { runTierResolution } from './tier-resolution.js';
import { ensureWrk } from './wrk-load.js';

const QUICK_BUDGET_SECONDS = 180;
/** The identity benchmark drives Chromium and has a quick budget of its own. */
const IDENTITY_BUDGET_SECONDS = 600;
/** So does the bots benchmark (Chromium, a two-minute fleet, the ingest ratio). */
const BOTS_BUDGET_SECONDS = 360;
/** And the faults (lease times to wait out, five kills). */
const FAULTS_BUDGET_SECONDS = 300;
/** The fuzz step's start, drain and checks after its load. */
const FUZZ_CHECK_SECONDS = 60;

const args = process.argv.slice(2);
const full = args.includes('--full') || testEnv.benchFull;
const profile = args.includes('--profile');
const record = args.includes('--record');
const outDir = record ? RECORDED_DIR : SCRATCH_DIR;
const NAMES = [
  'tier-resolution',
  'sdk',
  'old-design',
  'ingest',
  'outage',
  'scale',
  'memory',
  'persistence',
  'embedded',
  'persisters',
  'stats-plan',
  'dashboard',
  'table-migration',
  'identity',
  'bots',
  'faults',
  'fuzz',
];
/** Steps that run only when named (`npm run bench -- fuzz`): acceptance runs, not performance figures. */
const OPT_IN = ['fuzz'];
const named = args.filter((a) => NAMES.includes(a));
const onlyFlag = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .filter(Boolean);
const only = onlyFlag || named.length > 0 ? [...(onlyFlag ?? []), ...named] : undefined;
const minutesFlag = args.find((a) => a.startsWith('--minutes='))?.slice('--minutes='.length);
const fuzzMinutes = Number(
  minutesFlag ?? process.env.BENCH_FUZZ_MINUTES ?? (full ? FULL_MINUTES : QUICK_MINUTES),
);
if (!Number.isFinite(fuzzMinutes) || fuzzMinutes <= 0) {
  console.error(
    `--minutes must be a positive number, got "${minutesFlag ?? process.env.BENCH_FUZZ_MINUTES}"`,
  );
  process.exit(2);
}
const unknown = args.filter(
  (a) =>
    !['--full', '--profile', '--record'].includes(a) &&
    !a.startsWith('--only=') &&
    !a.startsWith('--minutes=') &&
    !NAMES.includes(a),
);
if (unknown.length > 0) {
  console.error(
    `unknown argument(s): ${unknown.join(' ')}; use --full, --only=name,name (or bare names: ${NAMES.join(', ')}), --profile, --record, --minutes=N (fuzz)`,
  );
  process.exit(2);
}
const wanted = (name: string) => (only ? only.includes(name) : !OPT_IN.includes(name));

const started = performance.now();
const mode = full ? 'full' : 'quick';
const machine = describeMachine();
const services = benchServices();
const servers: ServerProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
let cleaned = false;

async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await Promise.all(servers.map((s) => s.stop().catch(() => {})));
  for (const fn of cleanups.reverse()) await fn().catch((err) => console.warn(`cleanup: ${String(err)}`));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping servers, deleting the run's keys, dropping the bench database`);
    cleanup().finally(() => process.exit(130));
  });
}

async function serviceVersions(redis: Redis, databaseUrl: string): Promise<void> {
  const info = await redis.info('server');
  machine.redis = /redis_version:(\S+)/.exec(info)?.[1] ?? null;
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    machine.postgres = (await c.query('show server_version')).rows[0]?.server_version ?? null;
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  console.log(
    `devicelink bench, ${mode} mode${full ? '' : ' (10 s windows for the targets, 100,000 stored sessions; --full for long runs)'}`,
  );
  console.log(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; ` +
      'the load generator, the servers, Redis and Postgres share these cores',
  );
  await checkServices(services);
  if (wanted('ingest')) console.log(`wrk: ${ensureWrk()}`);
  const redis = new Redis(services.redisUrl);
  cleanups.push(async () => {
    redis.disconnect();
  });
  const db = await createBenchDatabase(services);
  cleanups.push(() => db.drop());
  await serviceVersions(redis, db.url);
  console.log(
    `services: Redis ${machine.redis} (${services.redisUrl}, keys under ${services.prefix}), ` +
      `Postgres ${machine.postgres} (fresh database); results to ${outDir}`,
  );
  const profileDir = profile ? join(outDir, 'profiles') : null;
  if (profileDir) {
    // Only this run's profiles are summed at the end.
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }

  const ctx = createContext({
    full,
    redisUrl: services.redisUrl,
    databaseUrl: db.url,
    redis,
    prefix: services.prefix,
    profileDir,
    track: (s) => servers.push(s),
  });
  cleanups.push(() => ctx.clearKeys());

  const plan: [string, () => Promise<SectionResult>][] = [
    ['tier-resolution', () => runTierResolution({ full })],
    ['sdk', () => runSdkCost({ full })],
    ['old-design', () => runOldDesignRace({ redisUrl: services.redisUrl, prefix: services.prefix, full })],
    ['ingest', () => runIngest(ctx)],
    ['outage', () => runOutage(ctx)],
    ['scale', () => runScale(ctx)],
    ['memory', () => runMemory(ctx)],
    ['persistence', () => runPersistence(ctx)],
    ['embedded', () => runEmbedded(ctx)],
    ['persisters', () => runPersisters(ctx)],
    ['stats-plan', () => runStatsPlan(services)],
    ['dashboard', () => runDashboard(ctx, services)],
    ['table-migration', () => runTableMigration(services, full)],
    ['identity', () => runIdentity(ctx)],
    ['bots', () => runBots(ctx, services)],
    ['faults', () => runFaults(ctx)],
    ['fuzz', () => runFuzz(ctx, services, fuzzMinutes)],
  ];
  const sections: SectionResult[] = [];
  for (const [name, run] of plan) {
    if (!wanted(name)) continue;
    const section = await run();
    sections.push(section);
    printSection(section);
    writeResult(outDir, section.name, {
      name: section.name,
      title: section.title,
      command: `npm run bench -- ${args.join(' ')}`.trim(),
      mode,
      machine,
      figures: section.figures,
      rows: section.rows,
      targets: section.targets,
      notes: section.notes,
      seconds: section.seconds,
    });
  }

  const targets: (Target & { benchmark: string })[] = sections.flatMap((s) =>
    s.targets.map((t) => ({ ...t, benchmark: s.name })),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n== Targets (${mode} mode, one run; ratios are what to compare)`);
  printTargets(targets);
  if (profileDir) {
    // Collectors write their profiles when they exit.
    await cleanup();
    for (const server of ['collector', 'reference', 'bare']) {
      const dir = join(profileDir, server);
      if (!existsSync(dir)) continue;
      console.log(`\n== CPU profile of the ${server} server process(es) (self time, idle excluded)`);
      summarizeProfiles(dir);
      if (server !== 'collector') continue;
      // Per request: the share of the collector's CPU times its CPU per answer in the ingest target cell.
      const perRequest = (ctx.shared.ingestOff as { cpuUsPerRequest?: number | null } | undefined)
        ?.cpuUsPerRequest;
      console.log('\n== What each feature of the collector costs (innermost named frame of each sample)');
      printTable(
        featureShares(dir)
          .slice(0, 16)
          .map((f) => ({
            feature: f.feature,
            share: `${(f.share * 100).toFixed(1)}%`,
            'µs per request': perRequest ? (f.share * perRequest).toFixed(1) : 'n/a',
          })),
      );
    }
  }
  const missed = targets.filter((t) => t.met === false).length;
  const budget =
    (sections.some((s) => !['identity', 'bots', 'faults', 'fuzz'].includes(s.name))
      ? QUICK_BUDGET_SECONDS
      : 0) +
    (sections.some((s) => s.name === 'identity') ? IDENTITY_BUDGET_SECONDS : 0) +
    (sections.some((s) => s.name === 'bots') ? BOTS_BUDGET_SECONDS : 0) +
    (sections.some((s) => s.name === 'faults') ? FAULTS_BUDGET_SECONDS : 0) +
    // The fuzz load lasts what was asked, then the queue drains and Postgres is read.
    (sections.some((s) => s.name === 'fuzz') ? fuzzMinutes * 60 + FUZZ_CHECK_SECONDS : 0);
  console.log(
    `\n${targets.length - missed} of ${targets.length} targets met; ${mode} run took ${seconds.toFixed(0)} s` +
      (!full && seconds > budget ? ` (over the ${budget} s quick budget)` : ''),
  );
  if (!only) {
    writeResult(outDir, 'summary', {
      name: 'summary',
      mode,
      machine,
      command: `npm run bench --${full ? ' --full' : ''}${record ? ' --record' : ''}`,
      seconds,
      targets,
    });
  }
  console.log(`results: ${outDir}/*.json`);
}

main()
  .catch(async (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
  });
