/**
 * The shape the SDK README shows, on three origins of one site: the app (support/sdk-app.ts) on
 * `app.example.com`, its API running the plugin (support/plugin-api.ts) on `api.example.com`, and the
 * collector on Redis and Postgres on `collect.example.com`, each on its own port. Chromium maps the
 * three names to 127.0.0.1 (`--host-resolver-rules`, nothing leaves the machine), so they are distinct
 * hosts of one site: each server keeps its own host-only `device_fp` cookie, and SameSite=Lax cookies
 * travel on the app's cross-origin requests, as they do for a site and its subdomains.
 */

import { testEnv } from '@devicelink/test-env';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from './browser.js';
import { type CollectorOnServices, startOnServices } from './collector-process.js';
import { type PluginApi, startPluginApi } from './plugin-api.js';
import { type RequestLog, recordRequests } from './request-log.js';
import { serveSdkApp } from './sdk-app.js';
import type { RunningServer } from './static-servers.js';

const SITE = 'example.com';

/** The three servers, the origins the browser sees them at, and one Chromium. */
export interface ThreeOrigins {
  /** Origins as the browser sees them. */
  app: string;
  api: string;
  collector: string;
  /** The API's and the collector's addresses on 127.0.0.1, for requests from the test process. */
  local: { api: string; collector: string };
  running: CollectorOnServices;
  /** The requests the API received for `path` (preflights included). */
  apiRequests(path: string): { method: string; path: string }[];
  /** A new browser (context) with its request log and a page of the app opened. */
  visitor(): Promise<{ context: BrowserContext; log: RequestLog; page: Page }>;
  close(): Promise<void>;
}

const named = (host: string, server: { origin: string }) =>
  `http://${host}.${SITE}:${new URL(server.origin).port}`;

/** Starts the app, the API and the collector (with `env`), and Chromium resolving the three names. */
export async function startThreeOrigins(
  label: string,
  env: Record<string, string> = {},
): Promise<ThreeOrigins> {
  const closing: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of closing.reverse()) await fn().catch(() => {});
  };
  try {
    let appOrigin = '';
    let apiOrigin = '';
    let collectorOrigin = '';
    const appServer: RunningServer = await serveSdkApp(() => ({
      collector: collectorOrigin,
      api: apiOrigin,
    }));
    closing.push(() => appServer.close());
    appOrigin = named('app', appServer);
    const api: PluginApi = await startPluginApi(() => appOrigin);
    closing.push(() => api.close());
    apiOrigin = named('api', api);
    const running = await startOnServices(label, { CORS_ORIGINS: appOrigin, ...env });
    closing.push(() => running.close());
    collectorOrigin = named('collect', { origin: running.collector.url });
    const chrome = await chromium.launch({
      executablePath: testEnv.chromiumPath!,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        `--host-resolver-rules=MAP *.${SITE} 127.0.0.1`,
        '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable',
      ],
    });
    closing.push(() => chrome.close());
    return {
      app: appOrigin,
      api: apiOrigin,
      collector: collectorOrigin,
      local: { api: api.origin, collector: running.collector.url },
      running,
      apiRequests: (path) => api.received.filter((r) => r.path === path),
      async visitor() {
        const context = await chrome.newContext();
        const log = recordRequests(context);
        const page = await context.newPage();
        await page.goto(`${appOrigin}/`);
        await page.waitForFunction(() => window.e2eApp);
        return { context, log, page };
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The `device_fp` cookie `context` holds for `origin`'s host, or undefined. */
export async function cookieAt(context: BrowserContext, origin: string): Promise<string | undefined> {
  return (await context.cookies(origin)).find((c) => c.name === 'device_fp')?.value;
}

/** The id the SDK holds right now. */
export function currentId(page: Page): Promise<string | null> {
  return page.evaluate(() => window.e2eApp!.dl.deviceId());
}
