/**
 * Small steps on the demo page that several tests share: waiting for the SDK's stored id, clicking
 * through the routes, logging in and out. Each waits for something observable, never for time.
 */
import { waitFor } from '@devicelink/test-env';
import type { BrowserContext, Page } from 'playwright-core';
import type { RequestLog } from './request-log.js';

declare global {
  interface Window {
    /** What the demo exposes for tests and the console (apps/demo/src/main.ts): its axios and SDK. */
    devicelinkDemo?: {
      api: {
        get(url: string): Promise<{ status: number; headers: Record<string, string>; data: any }>;
      };
      dl: {
        deviceId(): string | null;
        deviceIdSource(): string | null;
        flush(): Promise<void>;
        reset(): Promise<{ ok: true } | { error: { name: string; message: string; status: number } }>;
        forget(): Promise<{ ok: true } | { error: { name: string; message: string; status: number } }>;
        setConsent(consent: 'granted' | 'denied' | 'pending'): void;
      };
    };
  }
}

/** The SDK's localStorage key (docs/protocol.md, Names). */
export const ID_KEY = 'devicelink:device-id';

/** A minted device id: 128 random bits in base64url, 22 characters (docs/protocol.md, Device id). */
export const MINTED_ID = /^[A-Za-z0-9_-]{22}$/;

/** A FingerprintJS visitorId: 32 lower-case hex digits. It travels only as evidence, never as an id. */
export const VISITOR_ID = /^[0-9a-f]{32}$/;

/** True for a request of the FingerprintJS chunk (see apps/demo/build.mjs). */
export const isFingerprintChunk = (url: string): boolean => /\/chunks\/fp\.esm-[\w-]+\.js$/.test(url);

/** The id stored by the SDK, waiting until there is one. */
export async function storedId(page: Page): Promise<string> {
  const handle = await page.waitForFunction((key) => localStorage.getItem(key), ID_KEY, { timeout: 20_000 });
  return (await handle.jsonValue()) as string;
}

/** Waits until the stored id is `id` (a minted id yields to the cookie on the collector's answer). */
export async function storedIdBecomes(page: Page, id: string): Promise<void> {
  await page.waitForFunction(([key, want]) => localStorage.getItem(key!) === want, [ID_KEY, id] as const, {
    timeout: 20_000,
  });
}

/** The stored id right now, or null. */
export function storedIdNow(page: Page): Promise<string | null> {
  return page.evaluate((key) => localStorage.getItem(key), ID_KEY);
}

/** Clicks the menu link of `route` ('' for home) and waits for the page to show it. */
export async function goTo(page: Page, route: '' | 'pricing' | 'about'): Promise<void> {
  await page.click(`nav a[data-route="${route}"]`);
  await page.waitForSelector(`nav a[data-route="${route}"][aria-current="page"]`);
}

/** Logs in through the demo's form and waits for the identify answer; returns its JSON. */
export async function logIn(page: Page, log: RequestLog, user = 'alice'): Promise<any> {
  const before = log.to('/v1/identify').length;
  await page.fill('#username', user);
  await page.fill('#password', user);
  await page.click('#login-button');
  await page.waitForSelector('#account:not([hidden])');
  const exchange = await waitFor(() => log.to('/v1/identify', { answered: true })[before], {
    what: 'the identify answer',
  });
  return JSON.parse(exchange.responseBody ?? 'null');
}

/** Logs out through the demo's button. */
export async function logOut(page: Page): Promise<void> {
  await page.click('#logout-button');
  await page.waitForSelector('#login-form:not([hidden])');
}

/** The value of the collector's `device_fp` cookie in this browser, or undefined. */
export async function deviceCookie(context: BrowserContext, collector: string): Promise<string | undefined> {
  return (await context.cookies(collector)).find((c) => c.name === 'device_fp')?.value;
}
