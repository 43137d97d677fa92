/**
 * The baseline of the ingest benchmark: Fastify 5 with one `POST /v1/events` route that parses the
 * same JSON body and answers 202, with no plugin, no Redis and no logging. Run as a child process by
 * `server-process.ts`; listens on PORT.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

app.post('/v1/events', async (request, reply) => {
  const events = (request.body as { events?: unknown[] } | null)?.events;
  reply.code(202);
  return { accepted: Array.isArray(events) ? events.length : 0, tracked: true };
});
app.get('/healthz', async () => ({ status: 'ok' }));

process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0));
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
