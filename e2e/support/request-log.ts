/**
 * Every request a browser context makes, with the headers it really sent (`allHeaders()`, which includes
 * cookies) and what came back. Recorded at the context, so beacons sent while a page closes are seen
 * too, and asserted by the tests: the page text alone proves little.
 */
import type { BrowserContext, Request } from 'playwright-core';

/** One request and, once it arrived, its response. */
export interface Exchange {
  method: string;
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string | null;
  status?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
}

/** The log of one context. */
export interface RequestLog {
  all: Exchange[];
  /** Exchanges whose URL path is `path` (and whose response arrived, when `answered`). */
  to(path: string, options?: { answered?: boolean }): Exchange[];
  /** Forgets what was recorded so far (a test step looks at its own requests). */
  clear(): void;
}

/** A log and how an engine's recorder adds to it. */
export interface WritableRequestLog extends RequestLog {
  /** Appends an exchange (its fields may be filled in later, as the response arrives). */
  push(exchange: Exchange): void;
}

/** An empty log; `recordRequests` (Playwright) and the Firefox engine (puppeteer-core) fill one. */
export function createRequestLog(): WritableRequestLog {
  let all: Exchange[] = [];
  return {
    get all() {
      return all;
    },
    push(exchange) {
      all.push(exchange);
    },
    to(path, { answered = false } = {}) {
      return all.filter((e) => new URL(e.url).pathname === path && (!answered || e.status !== undefined));
    },
    clear() {
      all = [];
    },
  };
}

/** Starts recording `context`'s requests. */
export function recordRequests(context: BrowserContext): RequestLog {
  const log = createRequestLog();
  const byRequest = new Map<Request, Exchange>();
  context.on('request', (request) => {
    const exchange: Exchange = {
      method: request.method(),
      url: request.url(),
      headers: request.headers(),
      body: request.postData(),
    };
    byRequest.set(request, exchange);
    log.push(exchange);
    // The full set (cookies included) is only available asynchronously.
    request.allHeaders().then(
      (headers) => (exchange.headers = headers),
      () => {},
    );
  });
  context.on('response', async (response) => {
    const exchange = byRequest.get(response.request());
    if (!exchange) return;
    try {
      exchange.responseHeaders = await response.allHeaders();
      exchange.responseBody = await response.text().catch(() => '');
    } catch {
      // The page went away before the body could be read.
    }
    exchange.status = response.status();
  });
  return log;
}
