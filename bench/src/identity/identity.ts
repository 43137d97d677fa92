/**
 * Benchmark 9: identity accuracy in real Chromium (bench/README.md, Identity accuracy). Simulated browsers
 * (one Chromium, a context each) with identical and distinct device settings visit an app page with the SDK,
 * on networks given by `X-Forwarded-For`, and go through return visits, cleared stores, changed settings, 6x
 * CPU throttling, a collector on another site and twins on one network. Our design is judged by what the
 * collector stored (Postgres: page views, sessions, logins, edges and revocations, resolved as
 * docs/protocol.md says reports do), with the admin device detail checked for each join; the old design by
 * replaying the same run (visitorId as the id, 200 ms wait, server-id fallback). See bench/README.md,
 * "Identity accuracy".
 */
import { randomBytes } from 'node:crypto';
import { deleteKeys, uniquePrefix } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import type { BenchContext } from '../bench-context.js';
import type { SectionResult } from '../report.js';
import { readCollectorView, waitPersisted } from './collector-view.js';
import {
  acceptedViews,
  bothDesigns,
  joinCases,
  oursAttributed,
  oursResolvedSessions,
  rawIdsOf,
} from './identity-figures.js';
import { report, type WindowFigures } from './identity-report.js';
import { replayOldDesign } from './old-design-replay.js';
import { startPageServer } from './page-server.js';
import { population } from './population.js';
import type { BrowserRecord } from './run-log.js';
import { driveScenarios } from './scenario-driver.js';
import { launchChromium } from './sim-browser.js';
import { userToken } from './user-token.js';

/** Runs benchmark 9. */
export async function runIdentity(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const notes: string[] = [];
  // Redis database 0 under a test-style prefix deleted at the end, like the test suites: runs of the
  // other steps (by anyone on this server) flush the bench database, which would wipe the joins.
  // The database REDIS_URL names, under a prefix of its own, deleted at the end.
  const redisUrl = new URL(ctx.redisUrl);
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
    // The simulated people are driven headless Chromium (a HeadlessChrome user agent, navigator.webdriver):
    // the bot filter would rightly store them as automation and refuse their evidence (no joins to judge).
    BOT_FILTER: 'off',
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
