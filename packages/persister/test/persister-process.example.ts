import { createRedisStore } from '@devicelink/fastify';
import { createDb, migrate, persist } from '@devicelink/persister';
import { Redis } from 'ioredis';

/** A persister process: the queue in Redis into Postgres, until SIGTERM or SIGINT (or `signal` aborts). */
export async function runPersister(
  redisUrl: string,
  databaseUrl: string,
  prefix = 'dl:',
  signal?: AbortSignal,
) {
  const redis = new Redis(redisUrl);
  // The queue the apps write: the same prefix and the same partition count as theirs.
  const store = await createRedisStore(redis, { prefix, partitions: 64 });
  const database = await createDb({ databaseUrl });
  try {
    await database.maintenance(migrate); // no query timeout: a migration may take minutes on a big table
    // Persists until the signal, then writes what is still queued for at most drainMs, and returns.
    await persist({
      db: database.db,
      queue: store,
      signal,
      drainMs: 10_000,
      onError: (err, context) => console.error(`persister: ${context}`, err),
    });
  } finally {
    await database.close();
    await redis.quit();
  }
}
