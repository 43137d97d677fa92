/**
 * The middle point of the ingest benchmark: Fastify with only the @devicelink/fastify plugin on the
 * Redis stores and an events route like the collector's (parse, track, 202), without the collector's
 * rate limiter, token verifier, CORS or logging. What a host app embedding the plugin pays per request.
 * Run as a child process by `server-process.ts`; listens on PORT, uses REDIS_URL with its own key prefix.
 */
import devicelink, { createRedisStore } from '@devicelink/fastify';
import { parseEventsBody } from '@devicelink/protocol';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
const store = await createRedisStore(redis, { prefix: 'dl:plugin-bench:' });
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
await app.register(devicelink, { store });

app.post('/v1/events', { config: { devicelink: true } }, async (request, reply) => {
  const parsed = parseEventsBody(request.body);
  if (!parsed.ok) return reply.code(400).send({ error: parsed.error });
  const result = await app.devicelink.track(request, parsed.value.events);
  reply.code(202);
  return result.tracked && 'deviceId' in result
    ? { accepted: result.accepted, tracked: true, deviceId: result.deviceId, sessionId: result.sessionId }
    : { accepted: 0, tracked: false };
});
app.get('/healthz', async () => ({ status: 'ok' }));

process.once('SIGTERM', () => {
  app.close().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
