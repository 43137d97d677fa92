/**
 * The identity flows (support/identity-flows.ts) in Debian's Firefox ESR, through puppeteer-core over
 * WebDriver BiDi. The same flows run in Chromium in identity.e2e.ts.
 */
import { hasServices } from '@devicelink/test-env';
import { describe } from 'vitest';
import { launchFirefox } from './support/firefox-engine.js';
import { identityFlows } from './support/identity-flows.js';

describe.runIf(hasServices('firefox', 'redis', 'postgres'))('device identity in Firefox ESR', () => {
  identityFlows(launchFirefox);
});
