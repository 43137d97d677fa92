/**
 * Vitest global setup of the root config: tags the run (`DL_TEST_RUN`, inherited by the workers, so
 * every key prefix and database a test makes carries it) and, when the run ends, fails it if any Redis
 * key or Postgres database with the tag is left: every test must remove what it made.
 */
import { Redis } from 'ioredis';
import { scanKeys } from './redis-keys.js';
import { databasesLike } from './test-database.js';
import { testEnv } from './test-env.js';
import { newRunTag, runDatabasePattern, runKeyPattern } from './test-names.js';

/** What a run left behind, by kind; empty lists when it cleaned up. */
export async function leftovers(tag: string): Promise<{ keys: string[]; databases: string[] }> {
  const keys: string[] = [];
  if (testEnv.redisUrl) {
    const redis = new Redis(testEnv.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      keys.push(...(await scanKeys(redis, runKeyPattern(tag))));
    } finally {
      redis.disconnect();
    }
  }
  const databases = testEnv.databaseUrl ? await databasesLike(runDatabasePattern(tag)) : [];
  return { keys, databases };
}

export default function setup(): () => Promise<void> {
  const tag = newRunTag();
  // Global setup runs before the workers start; they inherit the variable (read in test-env.ts).
  process.env.DL_TEST_RUN = tag;
  return async () => {
    const { keys, databases } = await leftovers(tag);
    if (keys.length === 0 && databases.length === 0) return;
    const prefixes = [...new Set(keys.map((k) => k.slice(0, k.indexOf(':', 3) + 1)))];
    const message =
      `the run ${tag} left ${keys.length} Redis keys under ${prefixes.length} test prefixes ` +
      `(${prefixes.slice(0, 10).join(', ')}) and ${databases.length} databases (${databases.join(', ')}): ` +
      'a test does not clean up what it made';
    console.error(`[leak-check] ${message}`);
    process.exitCode = 1;
    throw new Error(message);
  };
}
