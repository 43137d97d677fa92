/**
 * The public surface of the built package, exactly: a name added to or dropped from `index.ts` (or the
 * `testing` entry) fails here, so every change of the API is a deliberate one. Reads `dist/`, as an
 * installed package is read (turbo builds before `test`).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// By URL, not by a static specifier: typecheck runs before this package's own build.
const load = (file: string): Promise<Record<string, unknown>> => import(new URL(file, import.meta.url).href);

const MAIN = [
  'DEVICELINK_ALLOWED_HEADERS',
  'DEVICELINK_EXPOSED_HEADERS',
  'DeviceLinkError',
  'DeviceLinkOptionsError',
  'DeviceLinkPluginError',
  'DeviceLinkUsageError',
  'QueueFullError',
  'QueuePartitionsMismatchError',
  'classifyUserAgent',
  'clientDeviceId',
  'corsOptions',
  'createMemoryStore',
  'createRedisStore',
  'createTrafficClassifier',
  'default',
  'devicelink',
  'headersDenyConsent',
  'isDeviceLinkError',
  'isDeviceLinkPluginError',
  'setRateLimitHeaders',
];

describe('the built package exports', () => {
  it('exactly the public names from the main entry, in ESM and CommonJS', async () => {
    const esm = await load('../dist/index.js');
    expect(Object.keys(esm).sort()).toEqual(MAIN);
    const cjs = require('../dist/index.cjs') as Record<string, unknown>;
    expect(Object.keys(cjs).sort()).toEqual(MAIN);
    expect(esm.default).toBe(esm.devicelink);
  });

  it('only the test-only append and the pinned crawler corpus from the testing entry', async () => {
    const names = ['BOT_USER_AGENTS', 'appendForTest'];
    expect(Object.keys(await load('../dist/testing.js')).sort()).toEqual(names);
    expect(Object.keys(require('../dist/testing.cjs') as object).sort()).toEqual(names);
  });
});
