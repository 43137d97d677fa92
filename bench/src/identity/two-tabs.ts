/**
 * Row "two tabs at once on a first visit" (issue 19): one browser (a context on a /24 of its own), two
 * tabs of the app opened together with empty stores, the race forced by an init script in each tab:
 *
 * 1. the tab's first write of the device id (`localStorage.setItem('devicelink:device-id', …)`) waits
 *    (a synchronous request to the page server's rendezvous) until the other tab reaches its own first
 *    write, at most 600 ms; when both meet, the first is let go at once and the **second tab's write
 *    50 ms later**, so both have read empty storage before either wrote, and the second's write lands
 *    last. A tab that waits alone (the other never writes, or waits for the Web Lock this tab holds)
 *    writes after the 600 ms;
 * 2. each tab's first page view is held by the browser (Playwright's `route`) until the other tab's
 *    first page view is held too (at most 1.5 s), then both go on: both are in flight before either
 *    is answered, so neither carries the cookie the other's answer sets (as when the collector is a
 *    round trip away and both tabs send at once).
 *
 * Then each tab sends one more page view (a client-side navigation), and the first tab logs in. Run on
 * the current SDK and on the SDK before the two-tab fix (old-sdk.ts), the same page bundled against
 * each. Split: the tabs' last page views before the login were stored under different ids (one
 * browser sending two ids at once). Converted: every pre-login page view of both tabs is in a session
 * converted to the user at the login.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { waitFor } from '@devicelink/test-env';
import type pg from 'pg';
import type { Browser, Page, Route } from 'playwright-core';
import { recordCollector, storedViews } from './edge-wire.js';
import { type DeviceSettings, newSimBrowser, openPage } from './sim-browser.js';

const START_WAIT_MS = 5_000;
const WRITE_WAIT_MS = 600;
const SECOND_WRITE_DELAY_MS = 50;
const SEND_WAIT_MS = 1_500;

/** The page server's rendezvous of the two tabs of a run, and what it saw. */
export function createRendezvous() {
  type Waiting = { tab: string; res: ServerResponse; timer: NodeJS.Timeout };
  const waiting = new Map<string, Waiting>();
  /** Runs (by point and run) whose two tabs met there. */
  const met = new Set<string>();
  const answer = (res: ServerResponse) => {
    if (!res.writableEnded) res.writeHead(204, { 'cache-control': 'no-store' }).end();
  };
  return {
    met,
    handler(req: IncomingMessage, res: ServerResponse): boolean {
      const url = new URL(req.url ?? '/', 'http://x');
      const point = /^\/race\/(start|write)$/.exec(url.pathname)?.[1];
      if (!point) return false;
      const key = `${point}:${url.searchParams.get('run')}`;
      const tab = url.searchParams.get('tab') ?? '';
      const other = waiting.get(key);
      if (other && other.tab !== tab) {
        waiting.delete(key);
        clearTimeout(other.timer);
        met.add(key);
        answer(other.res);
        if (point === 'write') setTimeout(() => answer(res), SECOND_WRITE_DELAY_MS);
        else answer(res);
        return true;
      }
      const wait = point === 'start' ? START_WAIT_MS : WRITE_WAIT_MS;
      waiting.set(key, {
        tab,
        res,
        timer: setTimeout(() => {
          waiting.delete(key);
          answer(res);
        }, wait),
      });
      return true;
    },
  };
}

/**
 * The init script of one tab (run in the page before any of its scripts). Plain JavaScript text: a
 * function passed instead would be serialized after tsx compiled it, helpers and all.
 */
function raceScript(run: string, tab: string): string {
  const query = JSON.stringify(`run=${encodeURIComponent(run)}&tab=${encodeURIComponent(tab)}`);
  return `(() => {
  const KEY = 'devicelink:device-id';
  const QUERY = ${query};
  // Synchronous, as localStorage is: the page's scripts (or the write) wait here. Without the
  // harness's rendezvous the page goes on at once.
  function meet(point) {
    try {
      const xhr = new XMLHttpRequest();
      xhr.open('GET', '/race/' + point + '?' + QUERY, false);
      xhr.send();
    } catch (e) {}
  }
  meet('start');
  const setItem = Storage.prototype.setItem;
  let wrote = false;
  Storage.prototype.setItem = function (key, value) {
    if (!wrote && key === KEY && this === window.localStorage) {
      wrote = true;
      meet('write');
    }
    return setItem.call(this, key, value);
  };
})();`;
}

/** Hides `navigator.locks`: a browser without Web Locks (the SDK's fallback: write at once, re-read). */
const NO_LOCKS_SCRIPT =
  "Object.defineProperty(Navigator.prototype, 'locks', { get() { return undefined; }, configurable: true });";

/** One run, as driven. */
export interface TwoTabRunDriven {
  /** The SDK before the fix, the current one, the current one in a browser without Web Locks. */
  sdk: 'before-fix' | 'current' | 'current-no-locks';
  /** `navigator.locks` existed in the tabs. */
  locks: boolean;
  run: string;
  /** The ids each tab's page views carried, in order. */
  tabIds: [string[], string[]];
  /** Each tab's pre-login page views (event ids), and the last one's. */
  views: [string[], string[]];
  /** The SDK's id in each tab before the login. */
  sdkIds: [string | null, string | null];
  /** Both tabs' first page views were held together (in flight at once). */
  sendsMet: boolean;
  user: string;
  error?: string;
}

/** One run, judged. */
export interface TwoTabRun extends TwoTabRunDriven {
  /** The tabs met at the start and at the write rendezvous (both between reading and writing at once). */
  startsMet: boolean;
  writesMet: boolean;
  /** The ids the tabs' last pre-login page views were stored under. */
  lastStored: [string | null, string | null];
  split: boolean;
  /** A cookie, yield or join edge ties the two ids (reports count one browser even when split). */
  tied: boolean;
  /** Pre-login page views of both tabs stored, and converted to the user. */
  stored: number;
  converted: number;
  allConverted: boolean;
}

/** Where the runs' pages are. */
export interface TwoTabEnv {
  browser: Browser;
  /** `http://app.example.com:<port>`: `/edge/` (current SDK) and `/edge-old/` (before the fix). */
  app: string;
  collector: string;
  settings: DeviceSettings;
  token(user: string): string;
}

/** Drives one run on `10.7.<index>`. */
export async function twoTabRun(
  env: TwoTabEnv,
  sdk: TwoTabRunDriven['sdk'],
  index: number,
): Promise<TwoTabRunDriven> {
  const run = `${sdk}-${index}`;
  const user = `user-two-tabs-${run}`;
  const sim = await newSimBrowser(env.browser, env.settings, `10.7.${index}.10`);
  const wire = recordCollector(sim.context, env.collector);
  const result: TwoTabRunDriven = {
    sdk,
    locks: false,
    run,
    tabIds: [[], []],
    views: [[], []],
    sdkIds: [null, null],
    sendsMet: false,
    user,
  };
  try {
    const pages = await Promise.all([openPage(sim), openPage(sim)]);
    await Promise.all(pages.map((p, i) => p.addInitScript({ content: raceScript(run, `t${i}`) })));
    if (sdk === 'current-no-locks') {
      await Promise.all(pages.map((p) => p.addInitScript({ content: NO_LOCKS_SCRIPT })));
    }
    // Each tab's first page view waits for the other's (Playwright answers the CORS preflight of a
    // routed request itself; the POST goes to the collector).
    const held: Route[] = [];
    const first = new Set<Page>();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const r of held) r.continue().catch(() => {});
    };
    await sim.context.route(`${env.collector}/v1/events`, (route) => {
      let page: Page | null = null;
      try {
        page = route.request().frame().page();
      } catch {
        page = null;
      }
      if (route.request().method() !== 'POST' || released || !page || first.has(page)) {
        return route.continue().catch(() => {});
      }
      first.add(page);
      held.push(route);
      if (held.length >= 2) {
        result.sendsMet = true;
        release();
      } else setTimeout(release, SEND_WAIT_MS);
    });
    const path = sdk === 'before-fix' ? '/edge-old/' : '/edge/';
    // Opened together.
    await Promise.all(pages.map((p, i) => p.goto(`${env.app}${path}tab-${i}`)));
    await Promise.all(pages.map((p, i) => wire.waitViews(1, `${run}: tab ${i}'s first page view`, p)));
    await Promise.all(pages.map((p, i) => p.evaluate((n) => window.edge.navigate(`/tab-${n}/next`), i)));
    await Promise.all(pages.map((p, i) => wire.waitViews(2, `${run}: tab ${i}'s second page view`, p)));
    const ids = await Promise.all(pages.map((p) => p.evaluate(() => window.edge.deviceId())));
    result.locks = await pages[0]!.evaluate(() => !!navigator.locks);
    result.sdkIds = [ids[0]!, ids[1]!];
    for (const i of [0, 1] as const) {
      const mine = wire.answeredViews(pages[i]);
      result.views[i] = mine.flatMap((r) => r.events.map((e) => e.id));
      result.tabIds[i] = mine.map((r) => r.sentId ?? '');
    }
    await pages[0]!.evaluate((t) => window.edge.logIn(t), env.token(user));
    await waitFor(() => wire.list.some((r) => r.path === '/v1/identify' && r.done) || null, {
      what: `${run}: the login`,
    });
    return result;
  } catch (err) {
    return { ...result, error: err instanceof Error ? err.message : String(err) };
  } finally {
    wire.stop();
    await sim.context.close().catch(() => {});
  }
}

/** Judges the runs on what Postgres holds (after the queue drained and the logins converted). */
export async function judgeTwoTabRuns(
  db: pg.Client,
  met: Set<string>,
  runs: TwoTabRunDriven[],
): Promise<TwoTabRun[]> {
  const views = await storedViews(
    db,
    runs.flatMap((r) => [...r.views[0], ...r.views[1]]),
  );
  const pairs = runs.map((r) =>
    r.views.map((v) => (v.length ? (views.get(v[v.length - 1]!)?.deviceId ?? null) : null)),
  );
  const { rows } = await db.query(
    `select device_id, other_id from device_edges where device_id = any($1) and other_id = any($1)`,
    [[...new Set(pairs.flat().filter((x): x is string => !!x))]],
  );
  const edges = new Set(
    rows.flatMap((e) => [`${e.device_id}|${e.other_id}`, `${e.other_id}|${e.device_id}`]),
  );
  return runs.map((r) => {
    const last = r.views.map((v) => (v.length ? (views.get(v[v.length - 1]!)?.deviceId ?? null) : null)) as [
      string | null,
      string | null,
    ];
    const all = [...r.views[0], ...r.views[1]];
    const stored = all.filter((id) => views.has(id)).length;
    const converted = all.filter((id) => views.get(id)?.converted === r.user).length;
    return {
      ...r,
      startsMet: met.has(`start:${r.run}`),
      writesMet: met.has(`write:${r.run}`),
      lastStored: last,
      split: last[0] !== null && last[1] !== null && last[0] !== last[1],
      tied: edges.has(`${last[0]}|${last[1]}`),
      stored,
      converted,
      allConverted: all.length > 0 && converted === all.length,
    };
  });
}
