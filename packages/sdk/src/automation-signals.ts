/**
 * The page's own automation evidence (docs/protocol.md, Bots and automation): what a driven browser
 * leaves where a page can see it. Sent as `automation` with every page-view request of the page and
 * with the fingerprint evidence; the collector lets it add a mark, never clear one. A chunk of its own
 * (with its own size limit), imported once per page after the SDK starts, never part of the core.
 */
import type { AutomationSignal } from '@devicelink/protocol';

/** What the checks read: `navigator`, `window` and `document`, or stand-ins in tests. */
export interface AutomationScope {
  navigator?: { webdriver?: unknown; userAgent?: unknown; userAgentData?: { brands?: unknown } };
  window?: Record<string, unknown>;
  document?: object;
}

/** Globals Selenium and ChromeDriver leave on `window` or `document`. */
const SELENIUM_GLOBALS = [
  '_selenium',
  'callSelenium',
  '__selenium_unwrapped',
  '__webdriver_evaluate',
  '__driver_evaluate',
];

/**
 * The automation signals of this page, without repeats; [] for an ordinary browser. Never throws.
 *
 * @example
 * automationSignals(); // ['webdriver'] under WebDriver, Puppeteer or Playwright
 */
export function automationSignals(
  scope: AutomationScope = globalThis as unknown as AutomationScope,
): AutomationSignal[] {
  const out: AutomationSignal[] = [];
  try {
    const nav = scope.navigator;
    const win = scope.window ?? {};
    const doc = (scope.document ?? {}) as Record<string, unknown>;
    if (nav?.webdriver === true) out.push('webdriver');
    const brands = Array.isArray(nav?.userAgentData?.brands) ? nav.userAgentData.brands : [];
    if (
      /HeadlessChrome/.test(String(nav?.userAgent ?? '')) ||
      brands.some((b: { brand?: unknown }) => /Headless/.test(String(b?.brand)))
    ) {
      out.push('headless');
    }
    if ('callPhantom' in win || '_phantom' in win) out.push('phantom');
    if ('__nightmare' in win) out.push('nightmare');
    const selenium =
      SELENIUM_GLOBALS.some((name) => name in win || name in doc) ||
      Object.keys(doc).some((key) => /^\$[cw]dc_/.test(key));
    if (selenium) out.push('selenium');
  } catch {
    // A hostile or odd global (a throwing getter): what was found so far stands.
  }
  return out;
}

/**
 * The `automation` field of a request body: `{ automation: [...] }` when this page shows signals, `{}`
 * otherwise (what the core spreads into its page-view bodies).
 */
export function automationField(scope?: AutomationScope): { automation?: AutomationSignal[] } {
  const signals = automationSignals(scope);
  return signals.length > 0 ? { automation: signals } : {};
}
