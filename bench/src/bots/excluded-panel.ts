/**
 * The dashboard's "Excluded traffic" panel as an operator sees it after benchmark `bots`: the run's
 * collector serves the dashboard; Chromium signs in with the admin token, shows the last 24 hours and
 * saves the panel as `bench/out/dashboard-excluded.png` (docs/dashboard-excluded.png is one of these).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SCRATCH_DIR } from '../report.js';
import { launchBrowser } from './traffic-mix.js';

/** Where the screenshot goes. */
export const EXCLUDED_PANEL_PNG = join(SCRATCH_DIR, 'dashboard-excluded.png');

/** Saves the panel; answers the rows of its class table (class, sessions, page views). */
export async function screenshotExcludedPanel(collectorUrl: string, adminToken: string): Promise<string[][]> {
  const browser = await launchBrowser(false);
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(`${collectorUrl}/dashboard/`);
    await page.fill('#token', adminToken);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#board', { state: 'visible' });
    await page.selectOption('#range', '24h');
    await page.fill('#tz', 'UTC');
    await page.click('#controls button[type=submit]');
    await page.waitForFunction(
      () =>
        ['ready', 'empty', 'error'].includes(document.getElementById('panel-excluded')?.dataset.status ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    await mkdir(SCRATCH_DIR, { recursive: true });
    const panel = page.locator('#panel-excluded');
    await panel.scrollIntoViewIfNeeded();
    await panel.screenshot({ path: EXCLUDED_PANEL_PNG });
    return await page
      .locator('#excluded-classes-table tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      );
  } finally {
    await browser.close().catch(() => {});
  }
}
