/**
 * The identity benchmark's rows of issue 19 ("Identity that holds at every edge"), run after the main
 * scenarios on the same collector, Chromium, Redis and Postgres: logout on a shared computer
 * (logout-runs.ts), live twins on one network (twin-pairs.ts), two tabs at once (two-tabs.ts) and the
 * evidence route as an oracle (evidence-oracle.ts). Each row's target is fixed here, before the run.
 */
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { fmt, type Target } from '../report.js';
import type { EdgeApi } from './edge-api.js';
import { drained, openDb } from './edge-wire.js';
import { measureOracle, median, type OracleFigures, verifyOracleJoins } from './evidence-oracle.js';
import { judgeLogoutRuns, LOGOUT_VARIANTS, type LogoutRun, logoutRun } from './logout-runs.js';
import type { DeviceSettings } from './sim-browser.js';
import { judgeTwinPairs, type TwinPair, type TwinVariant, twinPair } from './twin-pairs.js';
import { judgeTwoTabRuns, type TwoTabRun, type TwoTabRunDriven, twoTabRun } from './two-tabs.js';

/** The targets of the rows, fixed before the run. */
const EDGE_TARGETS = {
  /** Runs per logout variant, inheritances allowed. */
  logoutRuns: 10,
  inherited: 0,
  /** Twin pairs per variant, standing joins allowed. */
  twinPairs: 10,
  standing: 0,
  /** Two-tab runs without and with the change (and with it, in a browser without Web Locks, reported). */
  tabsBefore: 10,
  tabsCurrent: 20,
  tabsNoLocks: 10,
  splitBeforePercent: 90,
  splitCurrent: 0,
  /** Evidence answers of each kind; the largest difference of their medians, ms. */
  oraclePairs: 200,
  oracleMedianMs: 2,
} as const;

/** Where the rows run. */
export interface EdgeRowsEnv {
  browser: Browser;
  full: boolean;
  databaseUrl: string;
  redis: Redis;
  prefix: string;
  adminToken: string;
  /** The collector as this process reaches it (`http://127.0.0.1:<port>`). */
  collectorLocal: string;
  /** The edge app, its API and the collector as the browser sees them (hosts of example.com). */
  app: string;
  api: string;
  collector: string;
  apiServer: EdgeApi;
  /** The bench page on 127.0.0.1 (same-site collector), for the twin pairs. */
  sameSite: { appUrl: string; blankUrl: string };
  /** Two-tab rendezvous results (the page server's). */
  met: Set<string>;
  /** The SDK before the two-tab fix was built (else the without-change runs are skipped). */
  beforeFix: { commit: string } | { error: string };
  token(user: string): string;
  log(line: string): void;
}

/** Settings of the edge rows' browsers (one group: the twins are identical). */
const EDGE_SETTINGS: DeviceSettings = {
  width: 1366,
  height: 768,
  pixelRatio: 1,
  timezone: 'Europe/Madrid',
  locale: 'es-ES',
  touch: false,
  cores: 4,
};

async function pool<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** What the rows add to the section. */
export interface EdgeRows {
  figures: {
    logout: LogoutRun[];
    twins: TwinPair[];
    twoTabs: TwoTabRun[];
    oracle: Omit<OracleFigures, 'joinedIds'> & {
      medianRegisteredMs: number | null;
      medianJoinedMs: number | null;
    };
  };
  rows: Record<string, string | number>[];
  targets: Target[];
  notes: string[];
}

/** Runs the rows. */
export async function runEdgeRows(env: EdgeRowsEnv): Promise<EdgeRows> {
  const scale = env.full ? 2 : 1;
  const T = EDGE_TARGETS;
  const timed = async <R>(what: string, work: () => Promise<R>) => {
    const t0 = performance.now();
    const r = await work();
    env.log(`${what} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  };

  // 1. Logout on a shared computer: each variant, reset and forget alternately.
  const logoutPlan = LOGOUT_VARIANTS.flatMap((variant, v) =>
    Array.from({ length: T.logoutRuns * scale }, (_, i) => ({
      variant,
      how: i % 2 === 0 ? ('reset' as const) : ('forget' as const),
      index: v * T.logoutRuns * scale + i,
    })),
  );
  const logoutDriven = await timed(`edge rows: ${logoutPlan.length} logouts on a shared computer`, () =>
    pool(logoutPlan, 5, (p) =>
      logoutRun(
        {
          browser: env.browser,
          app: env.app,
          collector: env.collector,
          api: env.api,
          apiServer: env.apiServer,
          settings: EDGE_SETTINGS,
          token: env.token,
        },
        p.variant,
        p.how,
        p.index,
      ).catch((err) => ({ variant: p.variant, how: p.how, error: message(err) })),
    ),
  );

  // 2. Twin pairs: first visits, and after a clear of both stores.
  const twinPlan = (['first-visits', 'after-clear'] as TwinVariant[]).flatMap((variant, v) =>
    Array.from({ length: T.twinPairs * scale }, (_, i) => ({ variant, index: v * T.twinPairs * scale + i })),
  );
  const twinEnv = {
    browser: env.browser,
    appUrl: env.sameSite.appUrl,
    blankUrl: env.sameSite.blankUrl,
    collectorUrl: env.collectorLocal,
    adminToken: env.adminToken,
    settings: EDGE_SETTINGS,
  };
  const twinDriven = await timed(`edge rows: ${twinPlan.length} pairs of live twins`, () =>
    pool(twinPlan, 8, (p) => twinPair(twinEnv, p.variant, p.index)),
  );

  // 3. Two tabs at once, the race forced: before the fix, then the current SDK.
  const tabsPlan: { sdk: TwoTabRunDriven['sdk']; index: number }[] = [
    ...('commit' in env.beforeFix
      ? Array.from({ length: T.tabsBefore * scale }, (_, i) => ({ sdk: 'before-fix' as const, index: i }))
      : []),
    ...Array.from({ length: T.tabsCurrent * scale }, (_, i) => ({
      sdk: 'current' as const,
      index: 100 + i,
    })),
    ...Array.from({ length: T.tabsNoLocks * scale }, (_, i) => ({
      sdk: 'current-no-locks' as const,
      index: 200 + i,
    })),
  ];
  const tabEnv = {
    browser: env.browser,
    app: env.app,
    collector: env.collector,
    settings: EDGE_SETTINGS,
    token: env.token,
  };
  const tabsDriven = await timed(`edge rows: ${tabsPlan.length} two-tab first visits`, () =>
    pool(tabsPlan, 4, (p) => twoTabRun(tabEnv, p.sdk, p.index)),
  );

  // 4. The oracle, with no browser running.
  const oracle = await timed(`edge rows: ${2 * T.oraclePairs} evidence answers timed`, () =>
    measureOracle(env.collectorLocal, T.oraclePairs),
  );

  const notes: string[] = [];
  if (!(await drained(env.redis, env.prefix))) notes.push('edge rows: the queue did not drain within 60 s');
  const db = await openDb(env.databaseUrl);
  let logout: LogoutRun[];
  let twins: TwinPair[];
  let twoTabs: TwoTabRun[];
  try {
    logout = await judgeLogoutRuns(db, logoutDriven);
    twins = await judgeTwinPairs(db, twinEnv, twinDriven);
    twoTabs = await judgeTwoTabRuns(db, env.met, tabsDriven);
    await verifyOracleJoins(db, oracle);
  } finally {
    await db.end();
  }

  // Rows and targets.
  const rows: Record<string, string | number>[] = [];
  const targets: Target[] = [];
  const of = (k: number, n: number) => `${k} of ${n}`;
  const countTarget = (name: string, k: number, n: number, minRuns: number, allowed: number): Target => ({
    name,
    measured: of(k, n),
    limit: `${allowed} of ≥ ${minRuns}`,
    met: n >= minRuns ? k <= allowed : false,
    ...(n < minRuns ? { note: `only ${n} runs measured` } : {}),
  });
  for (const variant of LOGOUT_VARIANTS) {
    const runs = logout.filter((r) => r.variant === variant && !r.error);
    const k = runs.filter((r) => r.inherited).length;
    const label = {
      'cross-origin': 'collector on another origin',
      'delete-fails': 'cookie DELETE failing',
      api: 'app API running the plugin',
    }[variant];
    rows.push({
      figure: `next person on the previous id after reset()/forget(), ${label}`,
      ours: of(k, runs.length),
      'old design': '-',
      target: `${T.inherited} of ≥ ${T.logoutRuns * scale}`,
    });
    targets.push(
      countTarget(
        `next person inheriting the previous id after reset()/forget(), ${label}`,
        k,
        runs.length,
        T.logoutRuns * scale,
        T.inherited,
      ),
    );
  }
  for (const variant of ['first-visits', 'after-clear'] as TwinVariant[]) {
    const pairs = twins.filter((p) => p.variant === variant && !p.error);
    const k = pairs.filter((p) => p.standing > 0).length;
    const label = variant === 'first-visits' ? 'first visits' : 'after a clear of both stores';
    rows.push({
      figure: `live twins on one network with a standing join once both visited again, ${label}`,
      ours: of(k, pairs.length),
      'old design': '-',
      target: `${T.standing} of ≥ ${T.twinPairs * scale}`,
    });
    rows.push({
      figure: `  (of them joined in the window; merged in the admin detail at the end)`,
      ours: `${pairs.filter((p) => p.joinedInWindow).length}; ${pairs.filter((p) => p.mergedInReports).length}`,
      'old design': '-',
      target: 'reported',
    });
    targets.push(
      countTarget(
        `standing joins between live identical twins on one network, ${label}`,
        k,
        pairs.length,
        T.twinPairs * scale,
        T.standing,
      ),
    );
  }
  const tabs = (sdk: TwoTabRunDriven['sdk']) =>
    twoTabs.filter((r) => r.sdk === sdk && !r.error && r.lastStored[0] && r.lastStored[1]);
  const before = tabs('before-fix');
  const current = tabs('current');
  const noLocks = tabs('current-no-locks');
  const beforeSplit = before.filter((r) => r.split).length;
  const beforeShare = before.length ? (100 * beforeSplit) / before.length : null;
  const commit = 'commit' in env.beforeFix ? env.beforeFix.commit.slice(0, 7) : 'n/a';
  rows.push({
    figure: `two tabs at once, race forced: split, SDK before the fix (${commit})`,
    ours: `${of(beforeSplit, before.length)} (${beforeShare === null ? 'n/a' : `${fmt(beforeShare)}%`})`,
    'old design': '-',
    target: `≥ ${T.splitBeforePercent}% of ≥ ${T.tabsBefore * scale}`,
  });
  rows.push({
    figure: 'two tabs at once, race forced: split, current SDK',
    ours: of(current.filter((r) => r.split).length, current.length),
    'old design': '-',
    target: `${T.splitCurrent} of ≥ ${T.tabsCurrent * scale}`,
  });
  rows.push({
    figure: 'two tabs at once, race forced: split, current SDK, a browser without Web Locks',
    ours: of(noLocks.filter((r) => r.split).length, noLocks.length),
    'old design': '-',
    target: 'reported',
  });
  rows.push({
    figure: "two tabs: both tabs' pre-login page views converted at login, current SDK (before the fix)",
    ours: `${of(current.filter((r) => r.allConverted).length, current.length)} (${of(before.filter((r) => r.allConverted).length, before.length)})`,
    'old design': '-',
    target: `all of ≥ ${T.tabsCurrent * scale}`,
  });
  targets.push({
    name: 'two tabs at once, race forced: split without the change (SDK before the fix)',
    measured: beforeShare === null ? 'n/a' : `${fmt(beforeShare)}% (${of(beforeSplit, before.length)})`,
    limit: `≥ ${T.splitBeforePercent}% of ≥ ${T.tabsBefore * scale}`,
    // Not measured (the older SDK could not be built) is missed, with the note saying why.
    met: beforeShare !== null && before.length >= T.tabsBefore * scale && beforeShare >= T.splitBeforePercent,
    ...('error' in env.beforeFix
      ? { note: `the SDK before the fix was not built: ${env.beforeFix.error}` }
      : {}),
  });
  targets.push(
    countTarget(
      'two tabs at once, race forced: split with the change',
      current.filter((r) => r.split).length,
      current.length,
      T.tabsCurrent * scale,
      T.splitCurrent,
    ),
  );
  targets.push(
    countTarget(
      "two tabs: a run whose tabs' pre-login page views were not all converted at login",
      current.filter((r) => !r.allConverted).length,
      current.length,
      T.tabsCurrent * scale,
      0,
    ),
  );
  const mReg = median(oracle.registeredMs);
  const mJoin = median(oracle.joinedMs);
  const diff = mReg === null || mJoin === null ? null : Math.abs(mReg - mJoin);
  const oracleSound = oracle.joinsVerified === oracle.pairs && oracle.otherAnswers === 0;
  rows.push({
    figure: `evidence answer, median registered vs joined (${oracle.registeredMs.length} each)`,
    ours: `${fmt(mReg)} vs ${fmt(mJoin)} ms (difference ${fmt(diff)} ms)`,
    'old design': '-',
    target: `< ${T.oracleMedianMs} ms`,
  });
  targets.push({
    name: `evidence answer: |median registered - median joined| over ${T.oraclePairs} each`,
    measured: diff === null ? 'n/a' : `${fmt(diff)} ms`,
    limit: `< ${T.oracleMedianMs} ms`,
    met:
      diff === null
        ? null
        : diff < T.oracleMedianMs && oracle.registeredMs.length >= T.oraclePairs && oracleSound,
    ...(oracleSound
      ? {}
      : {
          note: `${oracle.joinsVerified} of ${oracle.pairs} joins found in Postgres, ${oracle.otherAnswers} answers other than 202 received`,
        }),
  });

  // Notes: what went wrong in the harness, and the side figures.
  const errors = [
    ...logout.filter((r) => r.error).map((r) => `logout ${r.variant}/${r.how}: ${r.error}`),
    ...twins.filter((p) => p.error).map((p) => `twins ${p.variant} ${p.network}: ${p.error}`),
    ...twoTabs.filter((r) => r.error).map((r) => `two tabs ${r.run}: ${r.error}`),
  ];
  if (errors.length)
    notes.push(`edge rows: ${errors.length} runs not measured: ${errors.slice(0, 5).join('; ')}`);
  const ok = logout.filter((r) => !r.error);
  notes.push(
    `logout: the marker went with person 2's first request in ${ok.filter((r) => r.markerSent).length} of ${ok.length} runs; ` +
      `the collector's cookie ended on the new id in ${ok.filter((r) => r.collectorCookie === r.nextId).length}, ` +
      `the API's in ${ok.filter((r) => r.variant === 'api' && r.apiCookie === r.nextId).length} of ${ok.filter((r) => r.variant === 'api').length}; ` +
      `person 2's page views stored ${ok.reduce((n, r) => n + r.nextStored, 0)} of ${ok.reduce((n, r) => n + r.nextViews, 0)}; ` +
      `logout answers: ${[...new Set(ok.map((r) => `${r.variant}/${r.how} ${r.logout}`))].join(', ')}`,
    `twins after a clear: the cleared browser was joined back before its twin arrived in ${twins.filter((p) => p.rejoinedAfterClear).length} of ${twins.filter((p) => p.variant === 'after-clear').length} pairs`,
    `two tabs: the tabs met at the write rendezvous in ${twoTabs.filter((r) => r.sdk === 'before-fix' && r.writesMet).length} of ${twoTabs.filter((r) => r.sdk === 'before-fix').length} runs before the fix, ${twoTabs.filter((r) => r.sdk === 'current' && r.writesMet).length} of ${twoTabs.filter((r) => r.sdk === 'current').length} with it (navigator.locks there in ${twoTabs.filter((r) => r.sdk === 'current' && r.locks).length}; the Web Lock keeps the second tab from writing) and ${twoTabs.filter((r) => r.sdk === 'current-no-locks' && r.writesMet).length} of ${twoTabs.filter((r) => r.sdk === 'current-no-locks').length} without Web Locks; at the start in ${twoTabs.filter((r) => r.startsMet).length} of ${twoTabs.length}, at the first page views in ${twoTabs.filter((r) => r.sendsMet).length} of ${twoTabs.length}; ` +
      `before the fix an edge still tied the split ids in reports in ${before.filter((r) => r.split && r.tied).length} of ${beforeSplit}; without Web Locks all pre-login page views converted in ${noLocks.filter((r) => r.allConverted).length} of ${noLocks.length}`,
    `oracle: ${oracle.joinsVerified} of ${oracle.pairs} joins verified in Postgres; answers p95 registered ${fmt(quantile(oracle.registeredMs, 0.95))} ms, joined ${fmt(quantile(oracle.joinedMs, 0.95))} ms`,
  );
  const { joinedIds: _, ...oracleFigures } = oracle;
  return {
    figures: {
      logout,
      twins,
      twoTabs,
      oracle: { ...oracleFigures, medianRegisteredMs: mReg, medianJoinedMs: mJoin },
    },
    rows,
    targets,
    notes,
  };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : null;
};
