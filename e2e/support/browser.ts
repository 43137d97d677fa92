/**
 * Debian's chromium through playwright-core, with the headless flags from DEVELOPERS.md, and a fresh
 * profile directory per browser so localStorage and cookies persist across pages and reloads of one
 * test's "person", and never between tests.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_FLAGS, testEnv } from '@devicelink/test-env';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** The arguments every e2e Chromium is launched with. */
export const CHROMIUM_ARGS = ['--headless', ...CHROMIUM_FLAGS];

const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

/** A browser with its own profile; `close` also removes the profile. */
export interface Profile {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches chromium with a new, empty profile directory. */
export async function launchProfile(): Promise<Profile> {
  const dir = await mkdtemp(join(tmpdir(), 'devicelink-e2e-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: testEnv.chromiumPath!,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1100, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as `e2e/screenshots/<name>.png` (the folder is git-ignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** One `navigator.sendBeacon` call a page made. */
export interface BeaconCall {
  url: string;
  /** The parsed body (the SDK sends JSON as text/plain). */
  body: any;
  /** What sendBeacon answered: true when the browser queued it. */
  queued: boolean;
}

/**
 * Records `navigator.sendBeacon` calls of `page`'s documents (call before `goto`). The real method still
 * runs; the wrapper only reports each call through a binding, which still works while the page unloads.
 */
export async function observeBeacons(page: Page): Promise<BeaconCall[]> {
  const calls: BeaconCall[] = [];
  await page.exposeBinding('__e2eBeacon', (_source, url: string, body: string, queued: boolean) => {
    calls.push({ url, body: JSON.parse(body), queued });
  });
  await page.addInitScript(() => {
    const send = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = (url: string | URL, data?: BodyInit | null) => {
      const queued = send(url, data);
      (window as any).__e2eBeacon(new URL(url, location.href).href, String(data), queued);
      return queued;
    };
  });
  return calls;
}
