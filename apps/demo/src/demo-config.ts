/**
 * Where the demo runs and which collector it talks to. Served by the collector (`DEMO=1`) it talks to its
 * own origin; served from elsewhere (the second-origin e2e test, or your own static server) the collector
 * comes from `?collector=` or from a global set before `app.js` loads:
 *
 * ```html
 * <script>window.DEVICELINK_DEMO = { collector: 'http://127.0.0.1:8080' };</script>
 * ```
 */

/** Settings of one demo page. */
export interface DemoConfig {
  /** The collector's base URL (an origin, no trailing slash). */
  collector: string;
  /** The path the demo is mounted at, with a trailing slash: `/demo/` when the collector serves it. */
  basePath: string;
  /** How long page views wait before a batch is sent, ms (the SDK's default unless overridden). */
  batchDelayMs: number | undefined;
  /** A URL on another site, for the "third-party request" button; none by default. */
  thirdPartyUrl: string | undefined;
}

declare global {
  interface Window {
    /** Optional settings written by whoever serves the demo (see the module comment). */
    DEVICELINK_DEMO?: Partial<Pick<DemoConfig, 'collector' | 'batchDelayMs' | 'thirdPartyUrl'>>;
  }
}

/** Reads the settings: query parameters first, then `window.DEVICELINK_DEMO`, then the defaults. */
export function readDemoConfig(): DemoConfig {
  const query = new URLSearchParams(location.search);
  const global = window.DEVICELINK_DEMO ?? {};
  const delay = Number(query.get('batchMs') ?? global.batchDelayMs);
  return {
    collector: (query.get('collector') ?? global.collector ?? location.origin).replace(/\/+$/, ''),
    // app.js sits at the demo's root, whatever path it is mounted at and whichever route is open.
    basePath: new URL('./', import.meta.url).pathname,
    batchDelayMs: Number.isFinite(delay) && delay > 0 ? delay : undefined,
    thirdPartyUrl: query.get('thirdParty') ?? global.thirdPartyUrl,
  };
}
