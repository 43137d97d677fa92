/**
 * Benchmark 9: identity accuracy in real Chromium (issue 10, "Measure"). Simulated browsers (one
 * Chromium, a context each) with identical and distinct device settings visit an app page with the
 * SDK, on networks given by `X-Forwarded-For`, and go through return visits, cleared stores, changed
 * settings, 6x CPU throttling, a collector on another site and twins on one network. Our design is
 * judged by what the collector stored (Postgres: page views, sessions, logins, edges and revocations,
 * resolved as docs/protocol.md says reports do), with the admin device detail checked for each join;
 * the old design by replaying the same run (visitorId as the id, 200 ms wait, server-id fallback).
 * See bench/README.md, "Identity accuracy".
 */
import { randomBytes } from 'node:crypto';
import { deleteKeys, uniquePrefix } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import type { BenchContext } from '../bench-context.js';
import { fmt, pct, type SectionResult, type Target, target } from '../report.js';
import { readCollectorView, waitPersisted } from './collector-view.js';
import {
  acceptedViews,
  bothDesigns,
  joinCases,
  oursAttributed,
  oursResolvedSessions,
  rawIdsOf,
} from './identity-figures.js';
import { firstPageview, OLD_WAIT_MS, replayOldDesign } from './old-design-replay.js';
import { startPageServer } from './page-server.js';
import { population } from './population.js';
import type { BrowserRecord } from './run-log.js';
import { driveScenarios } from './scenario-driver.js';
import { launchChromium } from './sim-browser.js';
import { userToken } from './user-token.js';

/** What the merge window looked like (after the second twins arrived and logged in). */
interface WindowFigures {
  pairs: number;
  /** Twin pairs whose second browser was joined to the first's device. */
  joined: number;
  /** Sessions of a browser that reports following the join would convert to another browser's user. */
  falseConversionsResolved: number;
  /** The same in the stored figures (raw ids). */
  falseConversionsStored: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : null;
};

/** Runs benchmark 9. */
export async function runIdentity(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const notes: string[] = [];
  // Redis database 0 under a test-style prefix deleted at the end, like the test suites: runs of the
  // other steps (by anyone on this server) flush the bench database, which would wipe the joins.
  const redisUrl = new URL(ctx.redisUrl);
  redisUrl.pathname = '/0';
  const prefix = uniquePrefix('idbench');
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  const runStart = new Date().toISOString();
  let collectorUrl = '';
  const sameSite = await startPageServer(() => collectorUrl);
  // localhost and 127.0.0.1 are different sites: the collector's cookie is third-party there.
  const crossSite = await startPageServer(() => collectorUrl.replace('127.0.0.1', 'localhost'));
  const jwtSecret = randomBytes(24).toString('hex');
  const collector = await ctx.startCollector({
    REDIS_URL: redisUrl.toString(),
    REDIS_KEY_PREFIX: prefix,
    ADMIN_TOKEN: adminToken,
    JWT_SECRET: jwtSecret,
    RECOVERY_SECRET: randomBytes(24).toString('hex'),
    // The browsers' networks come in X-Forwarded-For from 127.0.0.1. An address, not a hop count:
    // Fastify 5.12 ignores a numeric trustProxy (it fails closed), so TRUST_PROXY=1 would see 127.0.0.1.
    TRUST_PROXY: '127.0.0.1',
    CORS_ORIGINS: `${sameSite.origin},${crossSite.origin}`,
  });
  collectorUrl = collector.url;
  const browser = await launchChromium();
  const read = async (records: BrowserRecord[]) => {
    const eventIds = acceptedViews(records).map((v) => v.eventId);
    const persisted = await waitPersisted(ctx.databaseUrl, eventIds, rawIdsOf(records));
    if (persisted < eventIds.length)
      notes.push(`${eventIds.length - persisted} accepted page views never reached Postgres`);
    return readCollectorView({
      databaseUrl: ctx.databaseUrl,
      collectorUrl,
      adminToken,
      deviceIds: rawIdsOf(records),
      eventIds,
    });
  };
  let window: WindowFigures | null = null;
  try {
    const plans = population(ctx.full ? 2 : 1);
    const records = await driveScenarios({
      browser,
      plans,
      sameSite: { appUrl: sameSite.appUrl, blankUrl: sameSite.blankUrl, collectorUrl: collector.url },
      crossSite: {
        appUrl: crossSite.appUrl,
        blankUrl: crossSite.blankUrl,
        collectorUrl: collector.url.replace('127.0.0.1', 'localhost'),
      },
      token: (user) => userToken(jwtSecret, user),
      concurrency: 6,
      dwellMs: 5_000,
      evidenceTimeoutMs: 45_000,
      log: (line) => console.log(`  identity: ${line}`),
      async duringWindow(records) {
        const view = await read(records);
        const views = oursAttributed(records, view);
        const deviceOf = (key: string) => views.find((v) => v.browser === key)?.device;
        const twins = records.filter((r) => r.role === 'twin-b');
        const resolved = oursResolvedSessions(records, view);
        const userOf = new Map(records.map((r) => [r.key, r.userId]));
        const wrong = (sessions: { userId: string | null; browsers: string[] }[]) =>
          sessions.reduce(
            (n, s) => n + (s.userId ? s.browsers.filter((b) => userOf.get(b) !== s.userId).length : 0),
            0,
          );
        window = {
          pairs: twins.length,
          joined: twins.filter((b) => deviceOf(b.key) !== undefined && deviceOf(b.key) === deviceOf(b.twin!))
            .length,
          falseConversionsResolved: wrong(resolved),
          falseConversionsStored: bothDesigns(records, view).ours.falseConversions,
        };
      },
    });
    const view = await read(records);
    const { ours, old, oldEstimated } = bothDesigns(records, view);
    const joins = joinCases(records, view);
    // The admin device detail of each new id shows its join as inferred (what an operator sees).
    let adminInferred = 0;
    for (const j of joins.filter((x) => x.joined && x.mintedId)) {
      const res = await fetch(`${collectorUrl}/v1/admin/devices/${j.mintedId}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      const detail = res.ok
        ? ((await res.json()) as { edges?: { kind: string; inferred: boolean }[] })
        : null;
      if (detail?.edges?.some((e) => e.kind === 'join' && e.inferred)) adminInferred++;
    }
    notes.push(
      `admin device detail: ${adminInferred} of ${joins.filter((x) => x.joined).length} joined ids show their join as inferred; ` +
        `its canonical ids ${view.disagreements.length === 0 ? 'agree' : `DISAGREE for ${view.disagreements.length} ids`} with the protocol's rule applied to Postgres`,
    );
    // What /v1/admin/stats counts for the run's window: raw ids, browsers through every standing edge.
    const stats = await fetch(
      `${collectorUrl}/v1/admin/stats?from=${encodeURIComponent(runStart)}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      { headers: { authorization: `Bearer ${adminToken}` } },
    ).then((r) => (r.ok ? (r.json() as Promise<Record<string, number>>) : null));
    if (stats) {
      notes.push(
        `/v1/admin/stats over the run: ${stats.devices} device ids, ${stats.browsers} browsers (${stats.browsersByCookie} through cookie and yield edges alone) ` +
          `for ${records.length} simulated browsers, ${records.filter((r) => r.role === 'twin-b').length} of them counted twice by design (a twin that cleared both stores)`,
      );
    }
    const replay = replayOldDesign(records);
    return report({
      records,
      ours,
      old,
      oldEstimated,
      joins,
      window,
      replay,
      notes,
      started,
      edges: view.edges.length,
    });
  } finally {
    await browser.close().catch(() => {});
    await collector.stop().catch(() => {});
    await sameSite.close();
    await crossSite.close();
    const redis = new Redis(redisUrl.toString());
    await deleteKeys(redis, prefix).finally(() => redis.disconnect());
  }
}

interface ReportInput {
  records: BrowserRecord[];
  ours: ReturnType<typeof bothDesigns>['ours'];
  old: ReturnType<typeof bothDesigns>['old'];
  oldEstimated: number;
  joins: ReturnType<typeof joinCases>;
  window: WindowFigures | null;
  replay: ReturnType<typeof replayOldDesign>;
  notes: string[];
  started: number;
  edges: number;
}

function report(input: ReportInput): SectionResult {
  const { records, ours, old, joins, window, replay, notes } = input;
  const count = (splits: Record<string, string[]>, keys: string[]) =>
    keys.reduce((n, k) => n + (splits[k]?.length ?? 0), 0);
  const kept = ['return', 'screen-changed', 'timezone-changed', 'locale-changed'];
  const oneCleared = ['ls-cleared', 'cookies-cleared'];
  const crossOne = ['cross-site ls-cleared', 'cross-site cookies-cleared'];
  const merges = (f: typeof ours, kind: string) => f.merges.filter((m) => m.kind === kind).length;
  const rate = (list: typeof joins, pick: (j: (typeof joins)[number]) => boolean) =>
    list.length ? list.filter(pick).length / list.length : null;
  const eligible = joins.filter((j) => j.uniqueOnNetwork);
  const at1 = eligible.filter((j) => j.cpuRate === 1 && !j.crossSite);
  const at6 = eligible.filter((j) => j.cpuRate > 1 && !j.crossSite);
  const cross = eligible.filter((j) => j.crossSite);
  const latency = (list: typeof joins) => list.map((j) => j.latencyMs).filter((x): x is number => x !== null);

  // First visits: how long the first page view and the fingerprint took, and the old design's fallback.
  const firsts = records.flatMap((r) =>
    r.visits.filter((v) => v.phase === 'first' || v.phase === 'twin-arrives'),
  );
  const fpDelay = (rateFilter: (n: number) => boolean) =>
    firsts
      .filter((v) => rateFilter(v.cpuRate))
      .map((v) => {
        const first = firstPageview(v);
        const ev = v.requests.find((q) => q.path === '/v1/device/fingerprint');
        return first && ev ? ev.start - first.start : null;
      })
      .filter((x): x is number => x !== null);
  const fp1 = fpDelay((n) => n === 1);
  const fp6 = fpDelay((n) => n > 1);
  const oldFirstOrphans = replay.mintedVisits.filter((m) => m.phase === 'first' && m.first?.server).length;
  const oldFirsts = replay.mintedVisits.filter((m) => m.phase === 'first').length;
  const oursFirstServer = records
    .flatMap((r) => r.visits.filter((v) => v.phase === 'first'))
    .filter((v) => !firstPageview(v)?.sentId).length;

  // Groups checked by the visitorId they actually produced.
  const vids = new Map<string, Set<string>>();
  for (const r of records) {
    for (const v of r.visits.filter((x) => x.phase === 'first' || x.phase === 'twin-arrives')) {
      const id = v.requests.find((q) => q.visitorId)?.visitorId;
      if (id) vids.set(r.settingsGroup, (vids.get(r.settingsGroup) ?? new Set()).add(id));
    }
  }
  const groups = [...vids.entries()];
  const oneEach = groups.every(([, s]) => s.size === 1);
  const allVids = groups.flatMap(([, s]) => [...s]);
  const distinctAcross = new Set(allVids).size === allVids.length;
  if (!oneEach)
    notes.push('a group of identical settings produced more than one visitorId: see figures.visitorIds');
  if (!distinctAcross) notes.push('two groups of different settings produced the same visitorId');
  if (groups.length === 0)
    notes.push('no fingerprint evidence reached the collector: the join figures are not measured');

  const rows: Record<string, string | number>[] = [
    {
      figure: 'false merges: identical browsers, different networks',
      ours: merges(ours, 'identical-apart'),
      'old design': merges(old, 'identical-apart'),
      target: '0',
    },
    {
      figure: 'false merges: twins on one network, both visited again',
      ours: merges(ours, 'twins'),
      'old design': merges(old, 'twins'),
      target: '0',
    },
    {
      figure: 'false merges: distinct browsers',
      ours: merges(ours, 'distinct'),
      'old design': merges(old, 'distinct'),
      target: '0',
    },
    {
      figure: 'splits: storage kept (return, screen, time zone, locale)',
      ours: count(ours.splits, kept),
      'old design': count(old.splits, kept),
      target: '0',
    },
    {
      figure: 'splits: one store cleared, same site',
      ours: count(ours.splits, oneCleared),
      'old design': count(old.splits, oneCleared),
      target: '0',
    },
    {
      figure: 'splits: one store cleared, cross-site collector',
      ours: count(ours.splits, crossOne),
      'old design': count(old.splits, crossOne),
      target: 'apart',
    },
    {
      figure: 'splits: both stores cleared (same site)',
      ours: count(ours.splits, ['both-cleared']),
      'old design': count(old.splits, ['both-cleared']),
      target: '-',
    },
    {
      figure: 'splits: twin cleared both stores (shared fingerprint)',
      ours: count(ours.splits, ['twin, shared fingerprint']),
      'old design': count(old.splits, ['twin, shared fingerprint']),
      target: 'by design',
    },
    {
      figure: `joins after both cleared by next request, 1x (n=${at1.length})`,
      ours: pct(rate(at1, (j) => j.joinedByNext)),
      'old design': pct(rate(at1, (j) => j.oldByNext)),
      target: '≥ 95%',
    },
    {
      figure: `joins after both cleared by next request, 6x CPU (n=${at6.length})`,
      ours: pct(rate(at6, (j) => j.joinedByNext)),
      'old design': pct(rate(at6, (j) => j.oldByNext)),
      target: '≥ 95%',
    },
    {
      figure: 'joins after both cleared, by the end of the run (1x and 6x)',
      ours: pct(rate([...at1, ...at6], (j) => j.joined)),
      'old design': '-',
      target: '-',
    },
    {
      figure: `joins after both cleared, cross-site (n=${cross.length})`,
      ours: pct(rate(cross, (j) => j.joinedByNext)),
      'old design': pct(rate(cross, (j) => j.oldByNext)),
      target: 'apart',
    },
    {
      figure: 'orphans (ids never joined to the browser, same site, not twins)',
      ours: ours.orphans,
      'old design': old.orphans,
      target: '0',
    },
    { figure: 'orphaned page views', ours: ours.orphanViews, 'old design': old.orphanViews, target: '0' },
    {
      figure: 'false conversions, stored figures (whole run)',
      ours: ours.falseConversions,
      'old design': old.falseConversions,
      target: '-',
    },
    {
      figure: 'false conversions in the merge window, reports following joins',
      ours: window?.falseConversionsResolved ?? 'n/a',
      'old design': old.falseConversions,
      target: '-',
    },
    {
      figure: 'residual risk: twin pairs joined before the first twin returns',
      ours: window ? `${window.joined} of ${window.pairs}` : 'n/a',
      'old design': window ? `${window.pairs} of ${window.pairs} (for good)` : 'n/a',
      target: 'measured',
    },
    {
      figure: 'first page views without an id (server id)',
      ours: `${oursFirstServer} of ${firsts.filter((v) => v.phase === 'first').length}`,
      'old design': `${oldFirstOrphans} of ${oldFirsts}`,
      target: '0',
    },
  ];
  const targets: Target[] = [
    target(
      'false merges, identical browsers on different networks',
      merges(ours, 'identical-apart'),
      0,
      '',
      '<=',
    ),
    target('false merges, twins on one network once both visited again', merges(ours, 'twins'), 0, '', '<='),
    target(
      'splits with storage kept (screen, time zone, locale changed)',
      count(ours.splits, kept),
      0,
      '',
      '<=',
    ),
    target('splits with one store cleared, same-site collector', count(ours.splits, oneCleared), 0, '', '<='),
    target(
      'joins after both stores cleared by the next request, 1x',
      pctValue(rate(at1, (j) => j.joinedByNext)),
      95,
      '%',
      '>=',
    ),
    target(
      'joins after both stores cleared by the next request, 6x CPU',
      pctValue(rate(at6, (j) => j.joinedByNext)),
      95,
      '%',
      '>=',
    ),
    target('orphans', ours.orphans, 0, '', '<='),
  ];
  notes.push(
    `${records.length} browsers, ${records.reduce((n, r) => n + r.visits.length, 0)} visits, ${acceptedViews(records).length} page views; ${input.edges} edges in the admin details`,
    `fingerprint (first page view to evidence sent): 1x p50 ${fmt(quantile(fp1, 0.5))} ms, p95 ${fmt(quantile(fp1, 0.95))} ms, max ${fmt(quantile(fp1, 1))} ms; 6x p50 ${fmt(quantile(fp6, 0.5))} ms, max ${fmt(quantile(fp6, 1))} ms (the old SDK waited ${OLD_WAIT_MS} ms)`,
    `join latency after both stores cleared (first page view to the evidence's answer): 1x p50 ${fmt(quantile(latency(at1), 0.5))} ms, max ${fmt(quantile(latency(at1), 1))} ms; 6x p50 ${fmt(quantile(latency(at6), 0.5))} ms, max ${fmt(quantile(latency(at6), 1))} ms; the next request left after a 5 s dwell`,
    `settings groups checked by visitorId: ${groups.length} groups, one visitorId each: ${oneEach ? 'yes' : 'NO'}, different groups different visitorIds: ${distinctAcross ? 'yes' : 'NO'}`,
    `old design: ${input.oldEstimated} fingerprint times estimated (visits whose minted id yielded to the cookie send no evidence)`,
  );
  return {
    name: 'identity',
    title: '9. Identity accuracy in real Chromium: ours vs the old design replayed on the same run',
    figures: {
      browsers: records.length,
      ours,
      old,
      joins,
      window,
      fingerprintMs: { x1: fp1, x6: fp6 },
      visitorIds: Object.fromEntries(groups.map(([g, s]) => [g, [...s]])),
    },
    rows,
    targets,
    notes,
    seconds: (performance.now() - input.started) / 1000,
  };
}

const pctValue = (ratio: number | null) => (ratio === null ? null : ratio * 100);
