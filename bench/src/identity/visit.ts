/**
 * One visit of a simulated browser: a page load of the app, its page views, optionally a dwell and a
 * client-side navigation (the browser's next request), a login, and the wait for the fingerprint
 * evidence of a minted id; every request to the collector recorded with Chromium's own timing.
 */
import { waitFor } from '@devicelink/test-env';
import type { Page, Request } from 'playwright-core';
import type { StoresBefore, Visit, WireRequest } from './run-log.js';
import { openPage, type SimBrowser } from './sim-browser.js';

/** What one visit does. */
export interface VisitPlan {
  phase: string;
  appUrl: string;
  before: StoresBefore;
  cpuRate?: number;
  /** Time on the first page before the next page view, ms (0: at once). */
  dwellMs?: number;
  /** Client-side navigations after the first page view (default 1). */
  navigations?: number;
  /** One more page view once the evidence is sent (a first visit browses on). */
  browseOn?: boolean;
  /** Calls `identify` with this token after the page views and the evidence. */
  loginToken?: string;
  /** How long to keep the page open for the evidence of a minted id, ms. */
  evidenceTimeoutMs: number;
}

const DEVICE_HEADER = 'x-device-fingerprint';

function toRecord(request: Request): WireRequest {
  const headers = request.headers();
  let body: any = null;
  try {
    body = JSON.parse(request.postData() ?? 'null');
  } catch {
    body = null;
  }
  const auth = headers.authorization?.replace(/^Bearer /, '');
  let userId: string | null = null;
  if (auth) {
    try {
      userId = JSON.parse(Buffer.from(auth.split('.')[1]!, 'base64url').toString()).sub ?? null;
    } catch {
      userId = null;
    }
  }
  return {
    method: request.method(),
    path: new URL(request.url()).pathname,
    start: Date.now(),
    end: null,
    answeredAt: null,
    status: null,
    sentId: headers[DEVICE_HEADER] ?? body?.deviceId ?? null,
    fresh: headers['x-device-fresh'] === '1' || body?.fresh === true,
    echoed: null,
    answer: null,
    eventIds: Array.isArray(body?.events) ? body.events.map((e: { id: string }) => e.id) : [],
    visitorId: typeof body?.visitorId === 'string' ? body.visitorId : null,
    userId,
  };
}

/** Runs one visit of `sim` and returns what it recorded; the page is closed at the end. */
export async function runVisit(sim: SimBrowser, key: string, plan: VisitPlan): Promise<Visit> {
  const requests: WireRequest[] = [];
  const byRequest = new Map<Request, WireRequest>();
  const collectorPath = (url: string) => /\/v1\//.test(new URL(url).pathname);
  const onRequest = (request: Request) => {
    if (!collectorPath(request.url()) || request.method() === 'OPTIONS') return;
    const record = toRecord(request);
    byRequest.set(request, record);
    requests.push(record);
  };
  const onDone = async (request: Request) => {
    const record = byRequest.get(request);
    if (!record) return;
    const timing = request.timing();
    if (timing.startTime > 0) record.start = timing.startTime;
    const response = await request.response().catch(() => null);
    if (response) {
      record.status = response.status();
      const headers: Record<string, string> = await response.allHeaders().catch(() => ({}));
      record.echoed = headers[DEVICE_HEADER] ?? null;
      if (record.path === '/v1/device/fingerprint') {
        record.answer = await response
          .json()
          .then((b: { status?: string }) => b.status ?? null)
          .catch(() => null);
      }
      record.end = timing.responseEnd >= 0 ? record.start + timing.responseEnd : Date.now();
      record.answeredAt = timing.responseStart >= 0 ? record.start + timing.responseStart : record.end;
    } else {
      // Failed (refused, CORS, unreachable): over, without an answer.
      record.end = Date.now();
    }
  };
  sim.context.on('request', onRequest);
  sim.context.on('requestfinished', onDone);
  sim.context.on('requestfailed', onDone);
  let page: Page | undefined;
  try {
    page = await openPage(sim, plan.cpuRate ?? 1);
    await page.goto(plan.appUrl);
    const navigationStart = await page.evaluate(() => performance.timeOrigin);
    const answered = (n: number) => () =>
      requests.filter((r) => r.path === '/v1/events' && r.status !== null).length >= n || null;
    await waitFor(answered(1), { what: `${key}: the first page view`, timeoutMs: 60_000 });
    const navigations = plan.navigations ?? 1;
    for (let i = 1; i <= navigations; i++) {
      if (i === 1 && plan.dwellMs) await new Promise((r) => setTimeout(r, plan.dwellMs));
      await page.evaluate((n) => window.bench.navigate(`/app/page-${n}`), i);
      await waitFor(answered(1 + i), { what: `${key}: page view ${1 + i}`, timeoutMs: 60_000 });
    }
    // A minted id fingerprints and sends the evidence on this load unless it yielded to the cookie.
    if ((await page.evaluate(() => window.bench.source())) === 'minted') {
      await waitFor(
        () => requests.some((r) => r.path === '/v1/device/fingerprint' && r.status !== null) || null,
        { what: `${key}: the fingerprint evidence`, timeoutMs: plan.evidenceTimeoutMs },
      ).catch(() => {});
    }
    if (plan.browseOn) {
      const before = requests.filter((r) => r.path === '/v1/events').length;
      await page.evaluate(() => window.bench.navigate('/app/more'));
      await waitFor(answered(before + 1), {
        what: `${key}: the page view after the evidence`,
        timeoutMs: 60_000,
      });
    }
    // The login comes after the fingerprint: a visitor browses a little first (and the old design's
    // identify then went with the visitorId, not a provisional server id).
    if (plan.loginToken) {
      await page.evaluate((token) => window.bench.identify(token), plan.loginToken);
    }
    const state = await page.evaluate(() => ({
      id: window.bench.deviceId(),
      source: window.bench.source(),
      errors: [...window.bench.errors],
    }));
    // Let answers still in flight be recorded before the listeners go.
    await waitFor(() => requests.every((r) => r.end !== null) || null, {
      what: `${key}: answers`,
      timeoutMs: 10_000,
    }).catch(() => {});
    return {
      browser: key,
      phase: plan.phase,
      cpuRate: plan.cpuRate ?? 1,
      settings: { ...sim.settings },
      before: plan.before,
      navigationStart,
      requests,
      idAfter: state.id,
      sourceAfter: state.source,
      errors: state.errors,
    };
  } finally {
    await page?.close().catch(() => {});
    sim.context.off('request', onRequest);
    sim.context.off('requestfinished', onDone);
    sim.context.off('requestfailed', onDone);
  }
}

/**
 * Clears the browser's stores with no page of the app open (an open page would send its pagehide
 * beacon with the old id, and the collector would set the cookie again): localStorage through a blank
 * page of the app's origin that runs no SDK, cookies through the context.
 */
export async function clearStores(
  sim: SimBrowser,
  blankUrl: string,
  which: { localStorage: boolean; cookies: boolean },
): Promise<void> {
  if (which.localStorage) {
    const page = await sim.context.newPage();
    try {
      await page.goto(blankUrl);
      await page.evaluate(() => localStorage.clear());
    } finally {
      await page.close();
    }
  }
  if (which.cookies) await sim.context.clearCookies();
}
