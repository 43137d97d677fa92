/**
 * What the edge rows read off the wire and out of the stores: the collector requests of one browser
 * context (Chromium's own request events), the `device_fp` cookie a host holds, the queue drained into
 * Postgres, and where page views landed.
 */
import { DEVICE_COOKIE } from '@devicelink/protocol';
import { waitFor } from '@devicelink/test-env';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { queueDepth } from '../queue-depth.js';

/** One request of a page to the collector. */
export interface EdgeRequest {
  method: string;
  path: string;
  /** `X-Device-Fingerprint`, `X-Device-Fresh`, `X-Device-Replaces` it carried. */
  sentId: string | null;
  fresh: boolean;
  replaces: string | null;
  /** Page views it carried: event id and URL path. */
  events: { id: string; path: string }[];
  /** The page (tab) it came from. */
  page: Page | null;
  /** Chromium's resource type (`fetch`, `ping` for a beacon, ...). */
  type: string;
  status: number | null;
  /** `X-Device-Fingerprint` of the answer. */
  echoed: string | null;
  done: boolean;
}

/** Records every request the context sends to `collectorOrigin` (preflights left out). */
export function recordCollector(context: BrowserContext, collectorOrigin: string) {
  const list: EdgeRequest[] = [];
  const byRequest = new Map<Request, EdgeRequest>();
  const onRequest = (request: Request) => {
    const url = new URL(request.url());
    if (url.origin !== collectorOrigin || request.method() === 'OPTIONS') return;
    const headers = request.headers();
    let body: any = null;
    try {
      body = JSON.parse(request.postData() ?? 'null');
    } catch {
      body = null;
    }
    const record: EdgeRequest = {
      method: request.method(),
      path: url.pathname,
      sentId: headers['x-device-fingerprint'] ?? body?.deviceId ?? null,
      fresh: headers['x-device-fresh'] === '1' || body?.fresh === true,
      replaces: headers['x-device-replaces'] ?? null,
      events: Array.isArray(body?.events)
        ? body.events.map((e: { id: string; url: string }) => ({ id: e.id, path: new URL(e.url).pathname }))
        : [],
      page: (() => {
        try {
          return request.frame().page();
        } catch {
          return null;
        }
      })(),
      type: request.resourceType(),
      status: null,
      echoed: null,
      done: false,
    };
    byRequest.set(request, record);
    list.push(record);
  };
  const onDone = async (request: Request) => {
    const record = byRequest.get(request);
    if (!record) return;
    const response = await request.response().catch(() => null);
    if (response) {
      record.status = response.status();
      const headers: Record<string, string> = await response.allHeaders().catch(() => ({}));
      record.echoed = headers['x-device-fingerprint'] ?? null;
    }
    record.done = true;
  };
  context.on('request', onRequest);
  context.on('requestfinished', onDone);
  context.on('requestfailed', onDone);
  return {
    list,
    /** Page views answered 202 (of `page` when given). */
    answeredViews: (page?: Page) =>
      list.filter(
        (r) =>
          r.path === '/v1/events' && r.status === 202 && r.events.length > 0 && (!page || r.page === page),
      ),
    /** Waits until `n` page views (of `page`) were answered. */
    waitViews: (n: number, what: string, page?: Page) =>
      waitFor(
        () =>
          list.filter(
            (r) =>
              r.path === '/v1/events' &&
              r.status === 202 &&
              r.events.length > 0 &&
              (!page || r.page === page),
          ).length >= n || null,
        { what, timeoutMs: 30_000 },
      ),
    stop() {
      context.off('request', onRequest);
      context.off('requestfinished', onDone);
      context.off('requestfailed', onDone);
    },
  };
}

/** The `device_fp` cookie the context holds for `origin`'s host, or null. */
export async function cookieAt(context: BrowserContext, origin: string): Promise<string | null> {
  return (await context.cookies(origin)).find((c) => c.name === DEVICE_COOKIE)?.value ?? null;
}

/** Waits until the collector's queue under `prefix` is empty: everything accepted is in Postgres. */
export async function drained(redis: Redis, prefix: string, timeoutMs = 60_000): Promise<boolean> {
  return waitFor(async () => (await queueDepth(redis, prefix)) === 0 || null, {
    what: 'the queue drained into Postgres',
    timeoutMs,
    intervalMs: 200,
  })
    .then(() => true)
    .catch(() => false);
}

/** Where page views landed: event id to the device id and session they were stored under. */
export async function storedViews(
  db: pg.Client,
  eventIds: string[],
): Promise<Map<string, { deviceId: string | null; sessionId: string | null; converted: string | null }>> {
  const { rows } = await db.query(
    `select p.event_id, p.device_id, p.session_id, s.converted_user_id
     from page_views p left join sessions s on s.id = p.session_id
     where p.event_id = any($1)`,
    [eventIds],
  );
  return new Map(
    rows.map((r) => [
      r.event_id,
      { deviceId: r.device_id, sessionId: r.session_id, converted: r.converted_user_id },
    ]),
  );
}

/** Opens a Postgres client for the run's database. */
export async function openDb(databaseUrl: string): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  return db;
}
