/**
 * The identity flows (support/identity-flows.ts) in Chromium, through playwright-core. The same flows
 * run in Firefox ESR in identity-firefox.e2e.ts.
 */
import { hasServices } from '@devicelink/test-env';
import { describe } from 'vitest';
import { launchChromium } from './support/chromium-engine.js';
import { identityFlows } from './support/identity-flows.js';

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('device identity in Chromium', () => {
  identityFlows(launchChromium);
});
