/**
 * The services a bench run uses, from `@devicelink/test-env` with local defaults (a clean clone with
 * Redis and Postgres on their usual ports needs no variables), and the bench's own isolation on a
 * machine it shares: the Redis database `REDIS_URL` names, with every key under a run prefix deleted
 * at the end (never FLUSHDB: other programs use the same database), and a fresh Postgres database on
 * the server `DATABASE_URL` names, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { createTestDatabase, deleteKeys, testEnv, uniquePrefix } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Used when `REDIS_URL` is unset. */
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Used when `DATABASE_URL` is unset. */
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** The service URLs of this run. */
export interface BenchServices {
  /** `REDIS_URL` as given (its database number included). */
  redisUrl: string;
  /** The run's key prefix (`dl:t-<run>-bench-<random>:`): every key the run writes is under it. */
  prefix: string;
  /** The configured (or default) Postgres server URL, used only to create and drop the bench database. */
  databaseServerUrl: string;
}

/** Resolves the URLs: test-env's values, else the local defaults. */
export function benchServices(): BenchServices {
  return {
    redisUrl: testEnv.redisUrl ?? DEFAULT_REDIS_URL,
    prefix: uniquePrefix('bench'),
    databaseServerUrl: testEnv.databaseUrl ?? DEFAULT_DATABASE_URL,
  };
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

/** Deletes every key under `prefix` (a run prefix, or one section's prefix under it). */
export async function clearBenchKeys(redis: Redis, prefix: string): Promise<void> {
  await deleteKeys(redis, prefix);
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
