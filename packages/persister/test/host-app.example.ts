import devicelink, { createRedisStore } from '@devicelink/fastify';
import { createDb, createPersister, migrate } from '@devicelink/persister';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

/** A host app: page views counted by the plugin on Redis, persisted to Postgres, no collector. */
export async function buildHostApp(redisUrl: string, databaseUrl: string, prefix = 'dl:') {
  const redis = new Redis(redisUrl);
  // The persister reads what the store writes: same client, same prefix, same partition count.
  const store = await createRedisStore(redis, { prefix, partitions: 64 });
  const database = await createDb({ databaseUrl });
  await database.maintenance(migrate); // no query timeout: a migration may take minutes on a big table
  const persister = createPersister({ db: database.db, queue: store });

  const app = Fastify();
  await app.register(devicelink, { store }); // queryAllowlist: the five utm_* parameters by default
  const body = {
    type: 'object',
    required: ['url'],
    properties: { url: { type: 'string', maxLength: 2048, pattern: '^(https?://|/)' } },
  } as const;
  app.post('/pageview', { config: { devicelink: true }, schema: { body } }, async (request, reply) => {
    const { url } = request.body as { url: string };
    // track() queues the URL without its fragment and with only the allowlisted query parameters.
    const result = await app.devicelink.track(request, [
      { type: 'pageview', url, referrer: null, id: null, clientTs: null },
    ]);
    return reply.code(202).send(result);
  });

  persister.start();
  app.addHook('onClose', async () => {
    await persister.stop({ drainMs: 10_000 }); // writes what is still queued
    await database.close();
    await redis.quit();
  });
  return app;
}
