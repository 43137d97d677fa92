/**
 * Traffic classes (docs/protocol.md, Bots and automation): what the collector decided a request, a
 * page view or a session came from. Stored with every page view and session; every figure counts
 * `human` only unless a reader asks for all traffic.
 */

/**
 * - `human`: a browser nothing marks as a program (the default, and the only class counted);
 * - `bot`: a user agent that names a crawler or a scripted client (the isbot list, curl, …);
 * - `automation`: a driven browser (headless markers, `navigator.webdriver`, Electron scrapers);
 * - `fleet`: a one-hit id of a network prefix that minted ids at a rate no NAT makes (after the fact).
 */
export type TrafficClass = 'human' | 'bot' | 'automation' | 'fleet';

/**
 * Every class, `human` first. Plain literals, not `Object.freeze(…)`: a call at module level would keep
 * them in every bundle of the SDK, which bundles this package and uses none of them.
 */
export const TRAFFIC_CLASSES: readonly TrafficClass[] = ['human', 'bot', 'automation', 'fleet'];

/** Longest stored reason (a marker and what it matched, e.g. `ua:headlesschrome`). */
export const MAX_TRAFFIC_REASON = 64;

/** The automation signals a page reports (SDK automation chunk), as sent in `automation`. */
export const AUTOMATION_SIGNALS = [
  /** `navigator.webdriver` is true (WebDriver, Puppeteer, Playwright without stealth patches). */
  'webdriver',
  /** `navigator.userAgent` or `userAgentData` names HeadlessChrome. */
  'headless',
  /** PhantomJS globals (`callPhantom`, `_phantom`). */
  'phantom',
  /** Nightmare's `__nightmare` global. */
  'nightmare',
  /** Selenium or ChromeDriver leftovers on `window` or `document` (`_selenium`, `$cdc_…`). */
  'selenium',
] as const;

/** One of {@link AUTOMATION_SIGNALS}. */
export type AutomationSignal = (typeof AUTOMATION_SIGNALS)[number];

/** True for a string that is one of {@link TRAFFIC_CLASSES}. */
export function isTrafficClass(value: unknown): value is TrafficClass {
  return typeof value === 'string' && (TRAFFIC_CLASSES as readonly string[]).includes(value);
}
