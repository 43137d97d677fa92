/**
 * Drives the simulated browsers through the scenarios, phase by phase, a few visits at a time:
 *
 * 1. `first`: every browser's first visit (twins' second browser waits), at 6x CPU for the throttled;
 * 2. `return`: a return visit; the second twin arrives on its twin's network and logs in (its minted
 *    id may be joined to its twin's device: the merge window, measured by `duringWindow`);
 * 3. `cleared`: each role's change (localStorage, cookies or both cleared with no page open; screen,
 *    time zone or locale changed), then a visit; the first twin returns (its own request);
 * 4. `again`: the twins visit again (both twins have now visited again);
 * 5. `twin-cleared`: the second twin clears both stores and visits (its fingerprint is shared now).
 */
import type { Browser } from 'playwright-core';
import { type BrowserPlan, changedSettings } from './population.js';
import type { BrowserRecord, StoresBefore } from './run-log.js';
import { newSimBrowser, type SimBrowser } from './sim-browser.js';
import { clearStores, runVisit, type VisitPlan } from './visit.js';

/** An app origin and the collector URL its pages talk to. */
export interface AppSite {
  appUrl: string;
  blankUrl: string;
  collectorUrl: string;
}

/** Options of {@link driveScenarios}. */
export interface DriverOptions {
  browser: Browser;
  plans: BrowserPlan[];
  sameSite: AppSite;
  crossSite: AppSite;
  /** A token for a user's login. */
  token(userId: string): string;
  /** Visits at a time. */
  concurrency: number;
  /** Time on the page after clearing both stores before the next page view, ms. */
  dwellMs: number;
  evidenceTimeoutMs: number;
  /** Called after phase 2, while the second twins may be joined to their twins. */
  duringWindow(records: BrowserRecord[]): Promise<void>;
  log(line: string): void;
}

interface Running {
  plan: BrowserPlan;
  sim: SimBrowser;
  record: BrowserRecord;
  site: AppSite;
  localStorage: boolean;
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Runs every phase and returns the record of each browser. */
export async function driveScenarios(options: DriverOptions): Promise<BrowserRecord[]> {
  const running: Running[] = [];
  for (const plan of options.plans) {
    const sim = await newSimBrowser(options.browser, plan.settings, `${plan.network}.${plan.host}`);
    running.push({
      plan,
      sim,
      site: plan.crossSite ? options.crossSite : options.sameSite,
      localStorage: false,
      record: {
        key: plan.key,
        role: plan.role,
        population: plan.population,
        settingsGroup: plan.settingsGroup,
        network: plan.network,
        twin: plan.twin,
        crossSite: plan.crossSite,
        userId: plan.userId,
        visits: [],
      },
    });
  }

  const visit = async (r: Running, phase: string, extra: Partial<VisitPlan> = {}) => {
    const cookies = await r.sim.context.cookies(r.site.collectorUrl);
    const before: StoresBefore = {
      localStorage: r.localStorage,
      cookie: cookies.some((c) => c.name === 'device_fp'),
    };
    const v = await runVisit(r.sim, r.plan.key, {
      phase,
      appUrl: r.site.appUrl,
      before,
      cpuRate: r.plan.cpuRate,
      evidenceTimeoutMs: options.evidenceTimeoutMs,
      ...extra,
    });
    r.localStorage = v.idAfter !== null;
    r.record.visits.push(v);
  };
  const phase = async (name: string, who: (r: Running) => boolean, work: (r: Running) => Promise<void>) => {
    const started = performance.now();
    const list = running.filter(who);
    await pool(list, options.concurrency, work);
    options.log(`${name}: ${list.length} visits in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  const role = (r: Running) => r.plan.role;

  try {
    await phase(
      'first visits',
      (r) => role(r) !== 'twin-b',
      (r) => visit(r, 'first', { browseOn: true }),
    );
    await phase(
      'return visits, second twins arrive',
      (r) => role(r) !== 'twin-a',
      (r) =>
        role(r) === 'twin-b'
          ? visit(r, 'twin-arrives', { browseOn: true, loginToken: options.token(r.plan.userId!) })
          : visit(r, 'return'),
    );
    await options.duringWindow(running.map((r) => r.record));
    await phase(
      'stores cleared, settings changed, first twins return',
      (r) => role(r) !== 'twin-b',
      async (r) => {
        const clear = {
          localStorage: role(r) === 'ls-cleared' || role(r) === 'both-cleared',
          cookies: role(r) === 'cookies-cleared' || role(r) === 'both-cleared',
        };
        if (clear.localStorage || clear.cookies) {
          await clearStores(r.sim, r.site.blankUrl, clear);
          if (clear.localStorage) r.localStorage = false;
        }
        r.sim.settings = changedSettings(r.plan.role, r.sim.settings);
        await visit(r, 'cleared', role(r) === 'both-cleared' ? { dwellMs: options.dwellMs } : {});
      },
    );
    await phase(
      'both twins again',
      (r) => r.plan.population === 'twins',
      (r) => visit(r, 'again'),
    );
    await phase(
      'second twins clear both stores',
      (r) => role(r) === 'twin-b',
      async (r) => {
        await clearStores(r.sim, r.site.blankUrl, { localStorage: true, cookies: true });
        r.localStorage = false;
        await visit(r, 'twin-cleared', { dwellMs: options.dwellMs });
      },
    );
  } finally {
    await Promise.all(running.map((r) => r.sim.context.close().catch(() => {})));
  }
  return running.map((r) => r.record);
}
