/**
 * What a flow needs from a browser engine, so one flow definition runs in Chromium (playwright-core,
 * `chromium-engine.ts`) and in Firefox ESR (puppeteer-core over WebDriver BiDi, `firefox-engine.ts`):
 * separate browsers of one launched engine (own cookies and localStorage), their pages, their cookies
 * and the log of every request they made. Only what the flows use; anything engine-specific stays in
 * the two implementations.
 */
import type { RequestLog } from './request-log.js';

/** The engines the e2e flows run in. */
export type EngineName = 'chromium' | 'firefox';

/** One page (tab) of a browser. */
export interface EnginePage {
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>;
  /** Runs `fn(arg)` in the page and answers its (JSON) result. */
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Waits until `fn(arg)` is truthy in the page (20 s at most) and answers its (JSON) value. */
  waitUntil<R, A>(fn: (arg: A) => R, arg: A): Promise<R>;
  click(selector: string): Promise<void>;
  /** The text of the first element matching `selector`, or null when there is none. */
  textContent(selector: string): Promise<string | null>;
  /** Saves a full-page screenshot as `e2e/screenshots/<name>.png` (the folder is git-ignored). */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** One simulated browser: its own cookies and localStorage, nothing shared with the others. */
export interface EngineBrowser {
  /** Every request its pages made (headers as sent, cookies included) and what came back. */
  readonly log: RequestLog;
  /** A new page, already recorded in `log` and sending the browser's extra headers. */
  newPage(): Promise<EnginePage>;
  /** How many of its pages are open. */
  openPages(): number;
  /** The value of its cookie `name` for `url`, or undefined. */
  cookie(url: string, name: string): Promise<string | undefined>;
  /** Deletes every cookie it holds. */
  clearCookies(): Promise<void>;
  close(): Promise<void>;
}

/** Options of one browser. */
export interface BrowserOptions {
  /** Sent as `X-Forwarded-For` on every request: the network the collector sees (with `TRUST_PROXY`). */
  forwardedFor?: string;
}

/** One launched engine whose browsers are cheap contexts of it (so they are twins: one build). */
export interface EngineInstance {
  readonly name: EngineName;
  browser(options?: BrowserOptions): Promise<EngineBrowser>;
  close(): Promise<void>;
}
