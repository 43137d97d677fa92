/**
 * The services a bench run uses, from `@devicelink/test-env` with local defaults (a clean clone with
 * Redis and Postgres on their usual ports needs no variables), and the bench's own isolation:
 * a dedicated Redis database number (flushed only when it holds nothing but bench data) and a fresh
 * Postgres database dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { createTestDatabase, testEnv } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Used when `REDIS_URL` is unset. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Used when `DATABASE_URL` is unset. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/**
 * The Redis database the bench owns. Collectors and tests use database 0 with key prefixes; a
 * separate number lets the bench FLUSHDB between sections without touching anyone else's keys.
 */
export const BENCH_REDIS_DB = 13;
/** Marks the bench database as ours; FLUSHDB is refused on a non-empty database without it. */
const OWNER_KEY = 'devicelink-bench:owner';

/** The service URLs of this run. */
export interface BenchServices {
  /** Redis URL with the bench database number. */
  redisUrl: string;
  /** The configured (or default) Postgres server URL, used only to create and drop the bench database. */
  databaseServerUrl: string;
}

/** Resolves the URLs: test-env's values, else the local defaults. */
export function benchServices(): BenchServices {
  const redis = new URL(testEnv.redisUrl ?? DEFAULT_REDIS_URL);
  redis.pathname = `/${BENCH_REDIS_DB}`;
  return { redisUrl: redis.toString(), databaseServerUrl: testEnv.databaseUrl ?? DEFAULT_DATABASE_URL };
}

/** Throws a message that says what to start or set when Redis or Postgres does not answer. */
export async function checkServices(services: BenchServices): Promise<void> {
  const redis = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis does not answer at ${services.redisUrl} (${(err as Error).message}): start Redis or set REDIS_URL`,
    );
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: services.databaseServerUrl });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(
      `Postgres does not answer at ${services.databaseServerUrl} (${(err as Error).message}): start Postgres or set DATABASE_URL`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Empties the bench's Redis database. Refuses when it holds keys that the bench did not mark as its
 * own (someone else chose the same database number).
 */
export async function flushBenchRedis(redis: Redis): Promise<void> {
  const size = await redis.dbsize();
  if (size > 0 && (await redis.exists(OWNER_KEY)) === 0) {
    throw new Error(
      `Redis database ${BENCH_REDIS_DB} holds ${size} keys the bench did not write; refusing to FLUSHDB it. ` +
        'Empty it yourself if it is safe, or free that database number.',
    );
  }
  await redis.flushdb();
  await redis.set(OWNER_KEY, String(process.pid));
}

/** A fresh Postgres database for the run and its `drop`. */
export async function createBenchDatabase(
  services: BenchServices,
): Promise<{ url: string; drop(): Promise<void> }> {
  // test-env's helper when DATABASE_URL is set; the same steps on the default server otherwise.
  if (testEnv.databaseUrl) return createTestDatabase('bench');
  const name = `dl_bench_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: services.databaseServerUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(services.databaseServerUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
