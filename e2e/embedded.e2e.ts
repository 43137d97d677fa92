/**
 * The same flow on the embedded defaults (no REDIS_URL, no DATABASE_URL: the in-process store and
 * PGlite in a temporary DATA_DIR), which is what `npm run demo` runs.
 */
import { hasServices, tempDataDir } from '@devicelink/test-env';
import { describe } from 'vitest';
import { deviceJourney } from './support/device-journey.js';

describe.runIf(hasServices('chromium'))('the demo on the embedded defaults', () => {
  deviceJourney('embedded', async () => {
    const data = tempDataDir('e2e-data');
    return {
      env: { DATA_DIR: data.dir },
      cleanup: async () => data.remove(),
    };
  });
});
