/**
 * The engine interface (`engine.ts`) on Debian's chromium through playwright-core: one Chromium per
 * instance, each browser a context of it (own cookies and localStorage), the flags of `browser.ts`.
 */
import { testEnv } from '@devicelink/test-env';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, screenshot } from './browser.js';
import type { EngineBrowser, EngineInstance, EnginePage } from './engine.js';
import { recordRequests } from './request-log.js';

const WAIT_MS = 20_000;

/** Launches one Chromium for the browsers of a file. */
export async function launchChromium(): Promise<EngineInstance> {
  const chrome = await chromium.launch({
    executablePath: testEnv.chromiumPath!,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  return {
    name: 'chromium',
    async browser({ forwardedFor } = {}) {
      const context = await chrome.newContext({ viewport: { width: 1100, height: 900 } });
      if (forwardedFor) await context.setExtraHTTPHeaders({ 'X-Forwarded-For': forwardedFor });
      return chromiumBrowser(context);
    },
    close: () => chrome.close(),
  };
}

function chromiumBrowser(context: BrowserContext): EngineBrowser {
  const log = recordRequests(context);
  return {
    log,
    newPage: async () => chromiumPage(await context.newPage()),
    openPages: () => context.pages().length,
    async cookie(url, name) {
      return (await context.cookies(url)).find((c) => c.name === name)?.value;
    },
    clearCookies: () => context.clearCookies(),
    close: () => context.close(),
  };
}

function chromiumPage(page: Page): EnginePage {
  return {
    async goto(url) {
      await page.goto(url);
    },
    evaluate: (fn, arg) => page.evaluate(fn as any, arg),
    async waitUntil(fn, arg) {
      const handle = await page.waitForFunction(fn as any, arg, { timeout: WAIT_MS });
      return (await handle.jsonValue()) as any;
    },
    click: (selector) => page.click(selector),
    textContent: (selector) => page.textContent(selector),
    screenshot: (name) => screenshot(page, name),
    close: () => page.close(),
  };
}
