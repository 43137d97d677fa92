/**
 * Benchmark `bots`: the labelled traffic benchmark. One collector (persister on, bot
 * filter on, `TRUST_PROXY` for the simulated networks) on a Postgres database of its own gets people and
 * a 200-browser NAT control in real Chromium, driven Chromium (`navigator.webdriver`, and headless
 * Chromium's own user agent), listed clients (the pinned crawler corpus unedited, scripted clients) and a
 * fleet (80 sequential addresses in one /24 and one /64 at 2 fresh ids a second); then the fleet job runs
 * (`markFleets` with the default thresholds, its clock moved on by the quiet time). Judged by what was
 * stored: each label's page views by their event ids, every dashboard figure against its recomputation
 * from the rows. Also: the classifier microbenchmark over the labelled user agents, and the ingest
 * ratio with the filter on and off. The thresholds are the constants below, fixed before the run.
 */
import { randomBytes } from 'node:crypto';
import { createDb, DEFAULT_FLEET_OPTIONS, type FleetResult, markFleets } from '@devicelink/persister';
import pg from 'pg';
import type { BenchContext } from '../bench-context.js';
import { type BenchServices, createBenchDatabase } from '../bench-env.js';
import { startPageServer } from '../identity/page-server.js';
import { userToken } from '../identity/user-token.js';
import { fmt, type SectionResult, target } from '../report.js';
import { timeClassifier } from './classifier-timing.js';
import { EXCLUDED_PANEL_PNG, screenshotExcludedPanel } from './excluded-panel.js';
import { type FilterIngest, filterIngest } from './filter-ingest.js';
import { checkDashboard, type GroupFigures, groupFigures, waitLinks, waitStored } from './stored-figures.js';
import {
  FULL_MIX,
  type Group,
  newLedger,
  QUICK_MIX,
  runBrowserGroups,
  runFleet,
  runListed,
  runNat,
} from './traffic-mix.js';

/** The pass lines, fixed before the run. */
const THRESHOLDS = {
  /** People's page views classified non-human, per 200, at most. */
  peoplePer200: 1,
  /** NAT control sessions classified non-human, at most. */
  natSessions: 0,
  /** Listed clients' page views caught, percent, at least. */
  listedPercent: 99,
  /** Automation page views caught, percent, at least. */
  automationPercent: 95,
  /** Fleet sessions marked after the job, percent, at least. */
  fleetPercent: 90,
  /** Dashboard figures that differ from their recomputation from the rows. */
  dashboardMismatches: 0,
  /** Conversions counted from non-human sessions. */
  nonHumanConversions: 0,
  /** Classifier p50 over the labelled user agents, µs, at most. */
  classifierP50Us: 2,
  /** Classifier on a 16 KB user agent, µs, at most. */
  hugeUs: 20,
} as const;

const HOUR = 3_600_000;
const MINUTE = 60_000;

const pct = (part: number, whole: number): number => (whole === 0 ? Number.NaN : (100 * part) / whole);

/** Runs benchmark `bots`. */
export async function runBots(ctx: BenchContext, services: BenchServices): Promise<SectionResult> {
  const started = performance.now();
  const size = ctx.full ? FULL_MIX : QUICK_MIX;
  const notes: string[] = [];
  const log = (line: string) => console.log(`  bots: ${line}`);

  const timing = timeClassifier(ctx.full ? 50 : 10);

  // The traffic run: its own database, so every figure is this run's alone.
  const database = await createBenchDatabase(services);
  const db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
  const client = new pg.Client({ connectionString: database.url });
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  const jwtSecret = randomBytes(24).toString('hex');
  const token = (user: string) => userToken(jwtSecret, user);
  let collectorUrl = '';
  const app = await startPageServer(() => collectorUrl);
  const runStart = Date.now();
  const ledger = newLedger();
  let groups: Record<Group, GroupFigures>;
  let fleetBefore: GroupFigures;
  let fleetJob: FleetResult;
  let dashboard: Awaited<ReturnType<typeof checkDashboard>>;
  let stored: number;
  let sent: number;
  let panelRows: string[][] = [];
  try {
    const collector = await ctx.startCollector({
      DATABASE_URL: database.url,
      REDIS_KEY_PREFIX: `${ctx.prefix}bots:`,
      ADMIN_TOKEN: adminToken,
      JWT_SECRET: jwtSecret,
      RECOVERY_SECRET: randomBytes(24).toString('hex'),
      BOT_FILTER: 'on',
      // The simulated networks come in X-Forwarded-For from 127.0.0.1 (an address, not a hop count).
      TRUST_PROXY: '127.0.0.1',
      CORS_ORIGINS: app.origin,
    });
    collectorUrl = collector.url;
    await client.connect();
    try {
      // The fleet sends through the whole browser run, at its own fixed rate.
      const pages = `${app.origin}/app/`;
      const fleet = runFleet(collectorUrl, pages, size.fleetSeconds, ledger);
      await runListed(collectorUrl, pages, ledger, token);
      log(`listed: ${ledger.listed.deviceIds.size} clients`);
      await runNat(collectorUrl, pages, size.nat, ledger, token);
      log(`NAT control: ${ledger.nat.deviceIds.size} returning clients on one address`);
      await runBrowserGroups(app, size, ledger, token, log);
      await fleet;
      log(`fleet: ${ledger.fleet.deviceIds.size} ids in ${size.fleetSeconds} s`);
      const all = Object.values(ledger).flatMap((g) => g.eventIds);
      sent = all.length;
      stored = await waitStored(client, all, 120_000);
      const logins = Object.values(ledger).reduce((n, g) => n + g.logins, 0);
      const links = await waitLinks(client, logins, 60_000);
      if (stored < sent) notes.push(`${sent - stored} accepted page views never reached Postgres`);
      if (links < logins) notes.push(`${logins - links} logins never reached Postgres`);
      fleetBefore = (await groupFigures(client, { ...newLedger(), fleet: ledger.fleet })).fleet;
      // The fleet job with its default thresholds, its clock moved on by the quiet time (an id must have
      // been silent FLEET_QUIET_MINUTES to be judged), so the window holds this whole run.
      const now = Date.now() + (DEFAULT_FLEET_OPTIONS.quietMinutes + 1) * MINUTE;
      for (;;) {
        fleetJob = await markFleets(db.db, DEFAULT_FLEET_OPTIONS, now);
        if (fleetJob.ran) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      groups = await groupFigures(client, ledger);
      const from = new Date(Math.floor(runStart / HOUR) * HOUR);
      const to = new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR);
      dashboard = await checkDashboard(db.db, client, collectorUrl, adminToken, from, to);
      // What an operator sees of it: the dashboard's excluded-traffic panel, in Chromium.
      panelRows = await screenshotExcludedPanel(collectorUrl, adminToken).catch((err: Error) => {
        notes.push(`the excluded-traffic panel could not be shown: ${err.message.split('\n')[0]}`);
        return [];
      });
    } finally {
      await collector.stop().catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
    await db.close().catch(() => {});
    await app.close().catch(() => {});
    await database
      .drop()
      .catch((err: unknown) => console.warn(`bots: dropping the database: ${String(err)}`));
  }
  const trafficSeconds = (performance.now() - started) / 1000;

  const ingest: FilterIngest = await filterIngest(ctx, 5, ctx.full ? 10 : 3);

  const people = {
    views: groups.people.stored + groups.nat.stored,
    nonHuman: groups.people.nonHumanViews + groups.nat.nonHumanViews,
  };
  const automation = {
    views: groups.webdriver.stored + groups.headless.stored,
    nonHuman: groups.webdriver.nonHumanViews + groups.headless.nonHumanViews,
  };
  const fleetMarked = groups.fleet.byReason;
  const fleetSessionsMarked = groups.fleet.nonHumanSessions;
  const µs = (ns: number) => ns / 1000;
  const failures = Object.entries(ledger).flatMap(([g, l]) => l.failures.map((f) => `${g}: ${f}`));
  if (failures.length > 0)
    notes.push(`${failures.length} failed requests or visits, e.g. ${failures.slice(0, 3).join('; ')}`);
  for (const m of dashboard.mismatches) {
    notes.push(`dashboard figure differs: ${m.figure}: dashboard ${m.dashboard}, rows ${m.recomputed}`);
  }

  const rows = [
    ...(Object.entries(groups) as [Group, GroupFigures][]).map(([group, g]) => ({
      label: group,
      clients: ledger[group].deviceIds.size,
      'page views sent': g.sent,
      stored: g.stored,
      'non-human': g.nonHumanViews,
      'non-human %': fmt(pct(g.nonHumanViews, g.stored)),
      sessions: g.sessions,
      'non-human sessions': g.nonHumanSessions,
      converted: g.converted,
      'converted non-human': g.convertedNonHuman,
      'classes (page views)': Object.entries(g.byReason)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([r, n]) => `${r}: ${n}`)
        .join(', '),
    })),
  ];
  const timingNote =
    `classifier µs per call: memoised (the plugin) p50 ${fmt(µs(timing.memoNs.p50))}, p99 ${fmt(µs(timing.memoNs.p99))}; ` +
    `without the memo (the isbot list and the markers) p50 ${fmt(µs(timing.noMemoNs.p50))}, p99 ${fmt(µs(timing.noMemoNs.p99))}; ` +
    `a 16 KB user agent ${fmt(µs(timing.hugeNs))}`;
  const ingestNote =
    'ingest req/s, BOT_FILTER on / off by round: ' +
    ingest.rounds
      .map(
        (r) =>
          `${fmt(r.on.reqPerSec)} / ${fmt(r.off.reqPerSec)} (${fmt(100 * r.ratio)}%, p99 ${fmt(r.on.p99Ms)} / ${fmt(r.off.p99Ms)} ms)`,
      )
      .join(', ');
  return {
    name: 'bots',
    title: 'Bots: labelled traffic against one collector, the classifier, the ingest cost',
    figures: {
      thresholds: THRESHOLDS,
      mix: size,
      groups,
      fleetBeforeJob: fleetBefore,
      fleetJob,
      fleetMarked,
      sent,
      stored,
      dashboard,
      classifier: timing,
      ingest,
      trafficSeconds,
      excludedPanel: panelRows,
    },
    rows,
    targets: [
      target(
        'people (40+ visitors and the NAT control): page views marked non-human per 200',
        (200 * people.nonHuman) / Math.max(1, people.views),
        THRESHOLDS.peoplePer200,
        '',
        '<=',
      ),
      target(
        'NAT control (200 returning clients, one address): sessions marked',
        groups.nat.nonHumanSessions,
        THRESHOLDS.natSessions,
        '',
        '<=',
      ),
      target(
        'listed clients: page views caught',
        pct(groups.listed.nonHumanViews, groups.listed.stored),
        THRESHOLDS.listedPercent,
        '%',
        '>=',
      ),
      target(
        'automation (webdriver and headless Chromium): page views caught',
        pct(automation.nonHuman, automation.views),
        THRESHOLDS.automationPercent,
        '%',
        '>=',
      ),
      target(
        'fleet: sessions marked after the job',
        pct(fleetSessionsMarked, groups.fleet.sessions),
        THRESHOLDS.fleetPercent,
        '%',
        '>=',
      ),
      target(
        'dashboard figures differing from the rows and their stored class',
        dashboard.mismatches.length,
        THRESHOLDS.dashboardMismatches,
        '',
        '<=',
      ),
      target(
        'conversions counted from non-human sessions',
        dashboard.conversions.countedFromNonHuman,
        THRESHOLDS.nonHumanConversions,
        '',
        '<=',
      ),
      target(
        'classifier p50 over the labelled user agents',
        µs(timing.memoNs.p50),
        THRESHOLDS.classifierP50Us,
        ' µs',
        '<=',
      ),
      target('classifier on a 16 KB user agent', µs(timing.hugeNs), THRESHOLDS.hugeUs, ' µs', '<='),
      {
        name: 'ingest with classification on vs off (req/s, median of rounds)',
        measured: `${fmt(100 * ingest.ratio)}%`,
        limit: 'reported',
        met: Number.isFinite(ingest.ratio),
      },
    ],
    notes: [
      `traffic: ${sent} page views accepted, ${stored} stored; people ${people.nonHuman} of ${people.views} page views marked ` +
        `(NAT control ${groups.nat.nonHumanViews} of ${groups.nat.stored}); automation ${automation.nonHuman} of ${automation.views} ` +
        `(webdriver ${groups.webdriver.nonHumanViews} of ${groups.webdriver.stored}, headless ${groups.headless.nonHumanViews} of ${groups.headless.stored}); ` +
        `listed ${groups.listed.nonHumanViews} of ${groups.listed.stored}; fleet sessions ${fleetSessionsMarked} of ${groups.fleet.sessions} ` +
        `(${fleetBefore.nonHumanSessions} before the job; the job marked ${fleetJob.marked})`,
      `dashboard: ${dashboard.compared} figures compared with the rows, ${dashboard.mismatches.length} differ; conversions counted ` +
        `${dashboard.conversions.dashboard}, stored converted sessions ${dashboard.conversions.storedHuman} human and ` +
        `${dashboard.conversions.storedNonHuman} non-human`,
      `the dashboard's excluded-traffic panel (last 24 h, ${EXCLUDED_PANEL_PNG}): ${panelRows.map((r) => r.join(' ')).join('; ') || 'not shown'}`,
      `fleet job: markFleets with the defaults (window ${DEFAULT_FLEET_OPTIONS.windowMinutes} min, at least ${DEFAULT_FLEET_OPTIONS.minIds} ` +
        `one-hit ids, ${DEFAULT_FLEET_OPTIONS.minSharePercent}% of the network's sessions), its clock ${DEFAULT_FLEET_OPTIONS.quietMinutes + 1} min ahead ` +
        `(the quiet time an id must be silent), once after the traffic was stored`,
      `people: ${size.people} real Chromium browsers (${size.concurrency} visits at once), a first visit and a return each; ` +
        `NAT control: ${size.nat} returning HTTP clients on one address sending what the SDK sends (200 real browsers took ` +
        `minutes on this shared machine); the fleet ran ${size.fleetSeconds} s at 2 ids/s alongside them`,
      timingNote,
      ingestNote,
      `ingest: ${ingest.rounds.length} rounds of ${ingest.windowSeconds} s windows per collector (wrk, 1 event, 50 connections, persister off), ` +
        'no pass line; the same machine runs wrk, both collectors and Redis',
      `classifier: ${timing.labelled} labelled user agents; listed caught ${timing.listed.caught} of ${timing.listed.total}, ` +
        `automation user agents ${timing.automation.caught} of ${timing.automation.total}, people marked ${timing.people.marked} of ${timing.people.total}; ` +
        'without the memo: a user agent the process has not seen (the LRU memo holds 10,000)',
      ...notes,
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
