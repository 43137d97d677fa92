/**
 * Keys of a test on the shared Redis: found by SCAN of its prefix (never KEYS, never FLUSHDB: other
 * suites and agents use the same server) and deleted when the test, file or run ends.
 */
import type { Redis } from 'ioredis';

/** Every key matching `pattern` (a SCAN MATCH glob). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key under `prefix`; resolves with how many there were. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  if (!prefix.startsWith('dl:t-'))
    throw new Error(`refusing to delete keys under a non-test prefix "${prefix}"`);
  const keys = await scanKeys(redis, `${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
  return keys.length;
}
