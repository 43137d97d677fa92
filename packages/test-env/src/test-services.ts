/**
 * The services one test, `describe` or file uses, opened together and closed together: a Redis key
 * prefix (every key under it deleted on close), a Redis client, a Postgres database with a connected
 * client (dropped on close), and the collector variables that point at them.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { Cleanups } from './cleanups.js';
import { deleteKeys } from './redis-keys.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { testEnv } from './test-env.js';
import { uniquePrefix } from './test-names.js';

/** What `openServices` opened. */
export interface TestServices {
  /** This scope's Redis key prefix; every key under it is deleted on close. */
  readonly prefix: string;
  /** A client on `REDIS_URL`, or null when Redis was not asked for. */
  readonly redis: Redis | null;
  /** A fresh database and a client connected to it, or null when Postgres was not asked for. */
  readonly database: (TestDatabase & { client: pg.Client }) | null;
  /** `REDIS_URL`, `REDIS_KEY_PREFIX` and `DATABASE_URL` for a collector, as far as opened. */
  readonly env: Record<string, string>;
  /** Runs `fn` on close, before the keys and the database go (last added, first run). */
  defer(fn: () => unknown): void;
  /** Closes what was deferred, deletes the prefix's keys, drops the database. */
  close(): Promise<void>;
}

/**
 * Opens Redis and/or Postgres for `label` (which names the prefix and the database).
 *
 * @example
 * const s = await openServices('erasure');
 * const app = await buildApp(loadConfig({ ...s.env, ADMIN_TOKEN }));
 * s.defer(() => app.close());
 * // ...
 * await s.close();
 */
export async function openServices(
  label: string,
  { redis = true, postgres = true }: { redis?: boolean; postgres?: boolean } = {},
): Promise<TestServices> {
  const cleanups = new Cleanups();
  const deferred = new Cleanups();
  const prefix = uniquePrefix(label);
  const env: Record<string, string> = {};
  let client: Redis | null = null;
  let database: TestServices['database'] = null;
  try {
    if (redis) {
      if (!testEnv.redisUrl) throw new Error('REDIS_URL is not set');
      const c = new Redis(testEnv.redisUrl, { maxRetriesPerRequest: 3 });
      client = c;
      cleanups.add(() => c.quit());
      // Registered after quit, so it runs before it (cleanups run last first).
      cleanups.add(() => deleteKeys(c, prefix));
      Object.assign(env, { REDIS_URL: testEnv.redisUrl, REDIS_KEY_PREFIX: prefix });
    }
    if (postgres) {
      const db = await createTestDatabase(label);
      cleanups.add(() => db.drop());
      const pgClient = new pg.Client({ connectionString: db.url });
      await pgClient.connect();
      cleanups.add(() => pgClient.end());
      database = { ...db, client: pgClient };
      env.DATABASE_URL = db.url;
    }
  } catch (err) {
    await cleanups.run();
    throw err;
  }
  return {
    prefix,
    redis: client,
    database,
    env,
    defer: (fn) => deferred.add(fn),
    async close() {
      await deferred.run();
      await cleanups.run();
    },
  };
}
