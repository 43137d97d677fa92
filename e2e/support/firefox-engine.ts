/**
 * The engine interface (`engine.ts`) on Debian's Firefox ESR, driven by puppeteer-core over WebDriver
 * BiDi: one Firefox per instance with a fresh profile (puppeteer makes a temporary one and removes it
 * on close), each browser a BiDi user context of it (own cookies and localStorage). Requests are
 * recorded per page (puppeteer has no context-wide request event), from the moment the page exists.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testEnv } from '@devicelink/test-env';
import puppeteer, { type BrowserContext, type HTTPRequest, type Page } from 'puppeteer-core';
import type { EngineBrowser, EngineInstance, EnginePage } from './engine.js';
import { createRequestLog, type Exchange, type WritableRequestLog } from './request-log.js';

const WAIT_MS = 20_000;
const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

/** Launches one headless Firefox ESR for the browsers of a file. */
export async function launchFirefox(): Promise<EngineInstance> {
  const firefox = await puppeteer.launch({
    browser: 'firefox',
    executablePath: testEnv.firefoxPath!,
    protocol: 'webDriverBiDi',
    headless: true,
    // Only loopback is reachable here: no update, telemetry or remote-settings traffic to wait for.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
  return {
    name: 'firefox',
    async browser({ forwardedFor } = {}) {
      const context = await firefox.createBrowserContext();
      return firefoxBrowser(context, forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {});
    },
    close: () => firefox.close(),
  };
}

function firefoxBrowser(context: BrowserContext, extraHeaders: Record<string, string>): EngineBrowser {
  const log = createRequestLog();
  const open = new Set<Page>();
  return {
    log,
    async newPage() {
      const page = await context.newPage();
      open.add(page);
      page.once('close', () => open.delete(page));
      await page.setExtraHTTPHeaders(extraHeaders);
      record(page, log);
      return firefoxPage(page);
    },
    openPages: () => open.size,
    async cookie(url, name) {
      const { hostname } = new URL(url);
      return (await context.cookies()).find((c) => c.name === name && c.domain === hostname)?.value;
    },
    async clearCookies() {
      await context.deleteCookie(...(await context.cookies()));
    },
    close: () => context.close(),
  };
}

/** Adds every request of `page` to `log`, with its body and, once it arrives, the response. */
function record(page: Page, log: WritableRequestLog): void {
  const byRequest = new Map<HTTPRequest, { exchange: Exchange; body: Promise<unknown> }>();
  page.on('request', (request) => {
    // BiDi gives the headers as sent (cookies included); the body is fetched on demand.
    const exchange: Exchange = {
      method: request.method(),
      url: request.url(),
      headers: request.headers(),
      body: null,
    };
    log.push(exchange);
    const body = request.hasPostData()
      ? request.fetchPostData().then(
          (text) => (exchange.body = text ?? null),
          () => {},
        )
      : Promise.resolve();
    byRequest.set(request, { exchange, body });
  });
  page.on('response', async (response) => {
    const sent = byRequest.get(response.request());
    if (!sent) return;
    const { exchange } = sent;
    exchange.responseHeaders = response.headers();
    // A preflight or a page already gone has no body to read.
    exchange.responseBody = await response.text().catch(() => '');
    // Answered only once the request's body is known too.
    await sent.body;
    exchange.status = response.status();
  });
}

function firefoxPage(page: Page): EnginePage {
  return {
    async goto(url) {
      await page.goto(url);
    },
    evaluate: (fn, arg) => page.evaluate(fn as any, arg),
    async waitUntil(fn, arg) {
      const handle = await page.waitForFunction(fn as any, { timeout: WAIT_MS, polling: 100 }, arg);
      return (await handle.jsonValue()) as any;
    },
    click: (selector) => page.click(selector),
    textContent: (selector) => page.$eval(selector, (el) => el.textContent).catch(() => null),
    async screenshot(name) {
      await mkdir(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
    },
    close: () => page.close(),
  };
}
