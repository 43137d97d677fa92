/**
 * Simulated browsers: one Chromium (Debian's, through playwright-core), one browser context per
 * simulated browser (its own cookies and localStorage), the device settings FingerprintJS reads set
 * through CDP on every page before it loads, and the browser's network given by `X-Forwarded-For`
 * (the collector runs with `TRUST_PROXY`). The simulated browsers are people: the user agent says
 * `Chrome`, not `HeadlessChrome`, and `navigator.webdriver` is off, so the collector's bot filter (on,
 * its default) takes their fingerprint evidence as a person's (docs/protocol.md, Bots and automation).
 */
import { CHROMIUM_FLAGS, testEnv } from '@devicelink/test-env';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** The site whose host names (`app.`, `api.`, `collect.`) Chromium maps to 127.0.0.1 for the edge rows. */
export const EDGE_SITE = 'example.com';

/** What a browser group shares: the settings CDP can vary in one browser build. */
export interface DeviceSettings {
  width: number;
  height: number;
  pixelRatio: number;
  timezone: string;
  locale: string;
  touch: boolean;
  cores: number;
}

const FLAGS = [
  ...CHROMIUM_FLAGS,
  // Many contexts share one renderer budget; background tabs must not be throttled while measured.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  // navigator.webdriver false: a driven browser's evidence makes no join, and these stand for people.
  '--disable-blink-features=AutomationControlled',
  // The edge rows' app, API and collector are hosts of one site (each keeps its own host-only cookie):
  // the names resolve to 127.0.0.1 inside Chromium, nothing leaves the machine.
  `--host-resolver-rules=MAP *.${EDGE_SITE} 127.0.0.1`,
  '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable',
];

/**
 * Launches headless Chromium (`CHROMIUM_PATH`, else /usr/bin/chromium). `secureOrigins`: plain-HTTP
 * origins to treat as secure contexts, as the HTTPS sites they stand for are (Web Locks exist only there).
 */
export async function launchChromium(secureOrigins: string[] = []): Promise<Browser> {
  if (!testEnv.chromiumPath) throw new Error('no Chromium: set CHROMIUM_PATH (or install /usr/bin/chromium)');
  const secure = secureOrigins.length
    ? [`--unsafely-treat-insecure-origin-as-secure=${secureOrigins.join(',')}`]
    : [];
  return chromium.launch({
    executablePath: testEnv.chromiumPath,
    args: [...FLAGS, ...secure],
    headless: true,
  });
}

/** One simulated browser: a context, the network it is on, and its current settings. */
export interface SimBrowser {
  context: BrowserContext;
  /** The client address the collector sees (`X-Forwarded-For`). */
  address: string;
  settings: DeviceSettings;
}

/** Creates a browser context on the network of `address`. */
export async function newSimBrowser(
  browser: Browser,
  settings: DeviceSettings,
  address: string,
): Promise<SimBrowser> {
  const context = await browser.newContext({ viewport: null });
  await context.setExtraHTTPHeaders({ 'X-Forwarded-For': address });
  return { context, address, settings };
}

/**
 * Opens a page with the browser's settings applied through CDP (and the CPU slowed `cpuRate` times),
 * before anything is loaded in it.
 */
export async function openPage(sim: SimBrowser, cpuRate = 1): Promise<Page> {
  const page = await sim.context.newPage();
  const cdp = await sim.context.newCDPSession(page);
  const s = sim.settings;
  await Promise.all([
    cdp.send('Emulation.setDeviceMetricsOverride', {
      width: s.width,
      height: s.height,
      deviceScaleFactor: s.pixelRatio,
      mobile: false,
      screenWidth: s.width,
      screenHeight: s.height,
    }),
    cdp.send('Emulation.setTimezoneOverride', { timezoneId: s.timezone }),
    cdp.send('Emulation.setLocaleOverride', { locale: s.locale }),
    // navigator.language(s) come from Accept-Language, which the locale override leaves alone. The
    // user agent is a person's Chrome (no client hints brands either: none says Headless).
    cdp.send('Emulation.setUserAgentOverride', {
      userAgent: (await page.evaluate(() => navigator.userAgent)).replace('HeadlessChrome', 'Chrome'),
      acceptLanguage: s.locale,
    }),
    cdp.send(
      'Emulation.setTouchEmulationEnabled',
      s.touch ? { enabled: true, maxTouchPoints: 5 } : { enabled: false },
    ),
    cdp.send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: s.cores }),
    ...(cpuRate > 1 ? [cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuRate })] : []),
  ]);
  return page;
}
