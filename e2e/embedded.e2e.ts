/**
 * The same flow on the embedded defaults (no REDIS_URL, no DATABASE_URL: the in-process store and
 * PGlite in a temporary DATA_DIR), which is what `npm run demo` runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasServices } from '@devicelink/test-env';
import { describe } from 'vitest';
import { deviceJourney } from './support/device-journey.js';

describe.runIf(hasServices('chromium'))('the demo on the embedded defaults', () => {
  deviceJourney('embedded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'devicelink-e2e-data-'));
    return {
      env: { DATA_DIR: dir },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  });
});
