/**
 * The test environment, read once: which real services and browser this run may use.
 * Tests, e2e and bench import this instead of reading `process.env` (Biome's noProcessEnv).
 *
 * A missing service skips its tests with a line saying so, unless `REQUIRE_SERVICES=1` (set by
 * `.ci/run`), where it fails the run instead.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';

export const testEnv = {
  redisUrl: process.env.REDIS_URL || undefined,
  redisClusterNodes: process.env.REDIS_CLUSTER_NODES || undefined,
  databaseUrl: process.env.DATABASE_URL || undefined,
  chromiumPath:
    process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined),
  requireServices: process.env.REQUIRE_SERVICES === '1',
  benchFull: process.env.BENCH_FULL === '1',
} as const;

export type Service = 'redis' | 'postgres' | 'chromium';

const serviceVar: Record<Service, string> = {
  redis: 'REDIS_URL',
  postgres: 'DATABASE_URL',
  chromium: 'CHROMIUM_PATH (or /usr/bin/chromium)',
};

const skipped = new Set<Service>();

/**
 * True when every named service is configured. When one is not: throws under REQUIRE_SERVICES=1,
 * otherwise prints one line saying which tests are skipped and returns false.
 * Use as `describe.runIf(hasServices('redis'))(...)`.
 */
export function hasServices(...services: Service[]): boolean {
  const missing = services.filter((s) =>
    s === 'redis' ? !testEnv.redisUrl : s === 'postgres' ? !testEnv.databaseUrl : !testEnv.chromiumPath,
  );
  if (missing.length === 0) return true;
  const names = missing.map((s) => serviceVar[s]).join(', ');
  if (testEnv.requireServices) {
    throw new Error(`REQUIRE_SERVICES=1 but ${names} is not set: these tests cannot be skipped in CI`);
  }
  for (const s of missing) {
    if (!skipped.has(s)) {
      skipped.add(s);
      console.warn(`[test-env] ${serviceVar[s]} not set: skipping tests that need ${s}`);
    }
  }
  return false;
}

/** A fresh Redis key prefix, so parallel tests never touch each other's keys (Cluster has only db 0). */
export function uniquePrefix(name = 't'): string {
  return `dl:${name}-${randomBytes(4).toString('hex')}:`;
}

/**
 * Creates an empty Postgres database for one test file (or worker) and returns its URL and a `drop`.
 * Isolation by database, never by wiping tables another test may be using.
 */
export async function createTestDatabase(label = 'test'): Promise<{ url: string; drop(): Promise<void> }> {
  if (!testEnv.databaseUrl) throw new Error('DATABASE_URL is not set');
  const name = `dl_${label.replace(/\W/g, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testEnv.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testEnv.databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: testEnv.databaseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Polls `check` until it returns a truthy value; the deadline only ends a hung test, it is no assertion. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 25, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
export { startRedisCluster, type TestRedisCluster } from './redis-cluster.js';
export { startTcpProxy, type TcpProxy, throughProxy } from './tcp-proxy.js';
