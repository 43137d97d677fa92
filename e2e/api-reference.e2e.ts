/**
 * The API reference at `/docs` as a reader opens it in Chromium: every operation sits under a named
 * section (none of the document's sections is empty), and the page logs no console error (swagger-ui's
 * inline style was refused by the page's Content-Security-Policy).
 */
import { hasServices } from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchProfile, type Profile, screenshot } from './support/browser.js';
import { type CollectorOnServices, startOnServices } from './support/collector-process.js';

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('the API reference', () => {
  let running: CollectorOnServices;
  let profile: Profile;
  beforeAll(async () => {
    running = await startOnServices('docs');
    profile = await launchProfile();
  });
  afterAll(async () => {
    await profile?.close();
    await running?.close();
  });

  test('groups every operation under its section and logs no console error', async () => {
    const page = await profile.context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(`${running.collector.url}/docs`);
    await page.locator('.opblock-tag-section').first().waitFor();
    const sections = await page.locator('.opblock-tag-section').evaluateAll((els) =>
      els.map((el) => ({
        tag: el.querySelector('.opblock-tag')?.getAttribute('data-tag') ?? '',
        operations: el.querySelectorAll('.opblock').length,
      })),
    );
    expect(sections.map((s) => s.tag).sort()).toEqual(['admin', 'ingest', 'insights', 'operations']);
    for (const s of sections) expect(s.operations, s.tag).toBeGreaterThan(0);
    await screenshot(page, 'api-reference');
    expect(problems).toEqual([]);
  });
});
