/**
 * The test environment, read once: which real services and browser this run may use.
 * Tests, e2e and bench import this instead of reading `process.env` (Biome's noProcessEnv).
 *
 * A missing service skips its tests with a line saying so, unless `REQUIRE_SERVICES=1` (set by
 * `.ci/run`), where it fails the run instead.
 */
import { existsSync } from 'node:fs';

/** The services of this run, from `REDIS_URL`, `DATABASE_URL`, `CHROMIUM_PATH`, `FIREFOX_PATH` and friends. */
export const testEnv = {
  redisUrl: process.env.REDIS_URL || undefined,
  redisClusterNodes: process.env.REDIS_CLUSTER_NODES || undefined,
  databaseUrl: process.env.DATABASE_URL || undefined,
  chromiumPath:
    process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined),
  /** The npm registry tests that install packed tarballs may use (e.g. https://registry.npmjs.org/). */
  npmRegistry: process.env.NPM_REGISTRY || undefined,
  /** Debian's Firefox ESR, driven over WebDriver BiDi by puppeteer-core in e2e. */
  firefoxPath:
    process.env.FIREFOX_PATH || (existsSync('/usr/bin/firefox-esr') ? '/usr/bin/firefox-esr' : undefined),
  requireServices: process.env.REQUIRE_SERVICES === '1',
  benchFull: process.env.BENCH_FULL === '1',
  /** The run tag the root global setup hands its workers (see `test-names.ts`). */
  runTag: process.env.DL_TEST_RUN || undefined,
  /** `PBT_SEED`: the seed a property-based test replays (its failure message names it). */
  propertySeed: Number(process.env.PBT_SEED) || undefined,
} as const;

/**
 * Headless Chromium's flags for this machine (as root, no network beyond loopback): without the
 * background-networking ones Chromium keeps dialling out and its connections are refused. Playwright
 * adds `--headless` with `headless: true`; e2e and the identity bench launch with these.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A service a suite may need. */
export type Service = 'redis' | 'postgres' | 'chromium' | 'firefox' | 'registry';

const serviceVar: Record<Service, string> = {
  redis: 'REDIS_URL',
  postgres: 'DATABASE_URL',
  chromium: 'CHROMIUM_PATH (or /usr/bin/chromium: apt-get install chromium)',
  firefox: 'FIREFOX_PATH (or /usr/bin/firefox-esr: apt-get install firefox-esr)',
  registry: 'NPM_REGISTRY (e.g. NPM_REGISTRY=$(npm config get registry))',
};

/** How to run what a missing service skipped (the skip line says it). */
const runHint: Record<Service, string> = {
  redis:
    'to run them: REDIS_URL=redis://127.0.0.1:6379 npm test (or CI=true bash .ci/run, which starts Redis)',
  postgres:
    'to run them: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm test (or CI=true bash .ci/run, which starts Postgres)',
  chromium: 'to run them: install Chromium as said, then npm test',
  firefox: 'to run them: install Firefox ESR as said, then npm test',
  registry: 'to run them: NPM_REGISTRY=$(npm config get registry) npm test',
};

const configured: Record<Service, () => boolean> = {
  redis: () => Boolean(testEnv.redisUrl),
  postgres: () => Boolean(testEnv.databaseUrl),
  chromium: () => Boolean(testEnv.chromiumPath),
  firefox: () => Boolean(testEnv.firefoxPath),
  registry: () => Boolean(testEnv.npmRegistry),
};

const skipped = new Set<Service>();

/**
 * True when every named service is configured. When one is not: throws under REQUIRE_SERVICES=1,
 * otherwise prints one line saying which tests are skipped and returns false.
 * Use as `describe.runIf(hasServices('redis'))(...)`.
 */
export function hasServices(...services: Service[]): boolean {
  const missing = services.filter((s) => !configured[s]());
  if (missing.length === 0) return true;
  const names = missing.map((s) => serviceVar[s]).join(', ');
  if (testEnv.requireServices) {
    throw new Error(`REQUIRE_SERVICES=1 but ${names} is not set: these tests cannot be skipped in CI`);
  }
  for (const s of missing) {
    if (!skipped.has(s)) {
      skipped.add(s);
      console.warn(`[test-env] ${serviceVar[s]} not set: skipping tests that need ${s}; ${runHint[s]}`);
    }
  }
  return false;
}
