/**
 * Row "next person inheriting the previous id" (issue 19): a shared computer. Each run is a browser
 * of its own (a context, its own /24): person 1 opens the app, is answered (the collector's cookie,
 * and in the API variant the API's own cookie, hold their id), the fingerprint evidence goes, person 1
 * logs in and logs out with `reset()` or `forget()` (alternately); then person 2 browses in the same
 * tab, reloads the app and browses on, calling the app's API where it has one.
 *
 * Variants, each with the app, the API and the collector on hosts of one site (app.example.com,
 * api.example.com, collect.example.com: each keeps its own host-only cookie, and the `SameSite=Lax`
 * cookies travel on the app's requests):
 * - `cross-origin`: the collector on another origin than the app (the DELETE needs a CORS preflight);
 * - `delete-fails`: the same, with the logout's cookie `DELETE` (reset) or erasure `DELETE` (forget)
 *   aborted by the browser (Playwright's `route.abort`), as a network error would;
 * - `api`: the same, and the app calls its own API (Fastify with `@devicelink/fastify`, which keeps its
 *   own `device_fp`) through the SDK's axios glue, before and after the logout.
 *
 * Person 2 inherited when any of person 2's page views was stored under person 1's id, or under an id
 * that an edge (cookie, yield or join, without a boundary between them) ties to it; when the API
 * resolved any of person 2's requests to person 1's id; or when the SDK held person 1's id after the
 * logout.
 */
import { waitFor } from '@devicelink/test-env';
import type pg from 'pg';
import type { Browser } from 'playwright-core';
import type { EdgeApi } from './edge-api.js';
import { cookieAt, recordCollector, storedViews } from './edge-wire.js';
import { type DeviceSettings, newSimBrowser, openPage } from './sim-browser.js';

/** The three variants. */
export type LogoutVariant = 'cross-origin' | 'delete-fails' | 'api';
export const LOGOUT_VARIANTS: LogoutVariant[] = ['cross-origin', 'delete-fails', 'api'];

/** One run, as recorded. */
export interface LogoutRun {
  variant: LogoutVariant;
  how: 'reset' | 'forget';
  /** Person 1's id, and the id the SDK held after the logout. */
  previousId: string | null;
  nextId: string | null;
  /** What `reset()` / `forget()` answered: ok, or the failure's status (0 for an aborted request). */
  logout: string;
  /** Person 2's page views sent, and stored (under which ids). */
  nextViews: number;
  nextStored: number;
  storedUnder: string[];
  /** Person 2's page views stored under the previous id, or under an id an edge ties to it. */
  viewsOnPrevious: number;
  edgeToPrevious: boolean;
  /** Person 2's API requests and those the API resolved to the previous id. */
  apiRequests: number;
  apiOnPrevious: number;
  /** Person 2's first request carried `X-Device-Replaces: <previous id>`. */
  markerSent: boolean;
  /** The hosts' cookies at the end: moved off the previous id. */
  collectorCookie: string | null;
  apiCookie: string | null;
  inherited: boolean;
  /** What went wrong in the harness, if anything (the run then counts as not measured). */
  error?: string;
}

/** Where the run's pages and servers are. */
export interface LogoutEnv {
  browser: Browser;
  /** `http://app.example.com:<port>` (the edge page at `/edge/`), collector and API as the browser sees them. */
  app: string;
  collector: string;
  api: string;
  apiServer: EdgeApi;
  settings: DeviceSettings;
  token(user: string): string;
}

/** Runs one shared-computer case; `index` picks its network. */
export async function logoutRun(
  env: LogoutEnv,
  variant: LogoutVariant,
  how: 'reset' | 'forget',
  index: number,
): Promise<
  Omit<LogoutRun, 'nextStored' | 'storedUnder' | 'viewsOnPrevious' | 'edgeToPrevious' | 'inherited'> & {
    nextEventIds: string[];
  }
> {
  const sim = await newSimBrowser(env.browser, env.settings, `10.6.${index}.10`);
  const wire = recordCollector(sim.context, env.collector);
  const run = `${variant}-${how}-${index}`;
  const page = await openPage(sim);
  const callApi = async (person: number) =>
    variant === 'api'
      ? page.evaluate((path) => window.edge.api(path), `/api/me?run=${run}&person=${person}`)
      : null;
  try {
    await page.goto(`${env.app}/edge/person-1`);
    await wire.waitViews(1, `${run}: person 1's first page view`);
    await callApi(1);
    const previousId = await page.evaluate(() => window.edge.deviceId());
    await waitFor(async () => (await cookieAt(sim.context, env.collector)) === previousId || null, {
      what: `${run}: the collector's cookie`,
    });
    // Person 1's evidence goes once the id stands: waited for, so nothing of person 1 is still to come.
    await waitFor(() => wire.list.some((r) => r.path === '/v1/device/fingerprint' && r.done) || null, {
      what: `${run}: person 1's fingerprint evidence`,
      timeoutMs: 30_000,
    }).catch(() => {});
    await page.evaluate((t) => window.edge.logIn(t), env.token(`user-${run}-1`));
    const deletePath = how === 'reset' ? '/v1/device/cookie' : '/v1/device';
    if (variant === 'delete-fails') {
      await sim.context.route(`${env.collector}${deletePath}`, (route) =>
        route.request().method() === 'DELETE' ? route.abort() : route.continue(),
      );
    }
    const answer = await page.evaluate((h) => window.edge.logOut(h), how);
    if (variant === 'delete-fails') await sim.context.unrouteAll({ behavior: 'ignoreErrors' });
    const sentBefore = wire.list.length;
    // Person 2, in the same tab: a page view, the API, a reload of the app, more of both.
    await page.evaluate(() => window.edge.navigate('/edge/next-person-1'));
    await waitFor(
      () => wire.list.some((r) => r.events.some((e) => e.path === '/edge/next-person-1') && r.done) || null,
      { what: `${run}: person 2's first page view answered` },
    );
    await callApi(2);
    await page.goto(`${env.app}/edge/next-person-2`);
    await waitFor(
      () => wire.list.some((r) => r.events.some((e) => e.path === '/edge/next-person-2') && r.done) || null,
      { what: `${run}: person 2's page view after the reload` },
    );
    await callApi(2);
    await page.evaluate(() => window.edge.navigate('/edge/next-person-3'));
    await waitFor(
      () => wire.list.some((r) => r.events.some((e) => e.path === '/edge/next-person-3') && r.done) || null,
      { what: `${run}: person 2's last page view` },
    );
    const nextId = await page.evaluate(() => window.edge.deviceId());
    const after = wire.list.slice(sentBefore).filter((r) => r.sentId);
    const nextEventIds = wire.list.flatMap((r) =>
      r.events.filter((e) => e.path.startsWith('/edge/next-person')).map((e) => e.id),
    );
    const api = env.apiServer.seen.filter((s) => s.run === run && s.person === '2');
    return {
      variant,
      how,
      previousId,
      nextId,
      logout: 'ok' in answer ? 'ok' : `status ${answer.status}`,
      nextViews: nextEventIds.length,
      nextEventIds,
      apiRequests: api.length,
      apiOnPrevious: api.filter((s) => s.deviceId === previousId).length,
      markerSent: after[0]?.replaces === previousId && previousId !== null,
      collectorCookie: await cookieAt(sim.context, env.collector),
      apiCookie: variant === 'api' ? await cookieAt(sim.context, env.api) : null,
    };
  } finally {
    wire.stop();
    await sim.context.close().catch(() => {});
  }
}

/** Judges the runs on what the collector stored (after the queue drained). */
export async function judgeLogoutRuns(
  db: pg.Client,
  runs: (
    | Awaited<ReturnType<typeof logoutRun>>
    | { variant: LogoutVariant; how: 'reset' | 'forget'; error: string }
  )[],
): Promise<LogoutRun[]> {
  const views = await storedViews(
    db,
    runs.flatMap((r) => ('nextEventIds' in r ? r.nextEventIds : [])),
  );
  const judged: LogoutRun[] = [];
  for (const r of runs) {
    if (!('nextEventIds' in r)) {
      judged.push({
        variant: r.variant,
        how: r.how,
        previousId: null,
        nextId: null,
        logout: 'n/a',
        nextViews: 0,
        nextStored: 0,
        storedUnder: [],
        viewsOnPrevious: 0,
        edgeToPrevious: false,
        apiRequests: 0,
        apiOnPrevious: 0,
        markerSent: false,
        collectorCookie: null,
        apiCookie: null,
        inherited: false,
        error: r.error,
      });
      continue;
    }
    const under = [
      ...new Set(r.nextEventIds.map((id) => views.get(id)?.deviceId).filter((x): x is string => !!x)),
    ];
    const previous = r.previousId;
    // An edge between person 2's ids and person 1's that no boundary crosses: reports would make them
    // one browser.
    const { rows } = previous
      ? await db.query(
          `select 1 from device_edges e
           where ((e.device_id = any($1) and e.other_id = $2) or (e.other_id = any($1) and e.device_id = $2))
             and not exists (select 1 from device_boundaries b
               where (b.device_id = e.device_id and b.other_id = e.other_id)
                  or (b.device_id = e.other_id and b.other_id = e.device_id))`,
          [under, previous],
        )
      : { rows: [] };
    const viewsOnPrevious = r.nextEventIds.filter((id) => views.get(id)?.deviceId === previous).length;
    const { nextEventIds: _, ...rest } = r;
    judged.push({
      ...rest,
      nextStored: r.nextEventIds.filter((id) => views.has(id)).length,
      storedUnder: under,
      viewsOnPrevious,
      edgeToPrevious: rows.length > 0,
      inherited:
        viewsOnPrevious > 0 ||
        rows.length > 0 ||
        r.apiOnPrevious > 0 ||
        (previous !== null && r.nextId === previous),
    });
  }
  return judged;
}
