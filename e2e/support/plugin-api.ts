/**
 * An app's own API on another origin, as the plugin's README shows it: Fastify with @fastify/cors
 * configured through `corsOptions()` for the app's origin, and `@devicelink/fastify` on a memory store,
 * so it keeps its own host-only `device_fp` cookie and echoes the id. `GET /api/me` (opted in) answers
 * the id the plugin resolved and how. Runs in the test process on 127.0.0.1 and a free port.
 */
import devicelink, { corsOptions, createMemoryStore } from '@devicelink/fastify';
import cors from '@fastify/cors';
import Fastify from 'fastify';
import type { RunningServer } from './static-servers.js';

/** The running API; `port` for the host name the browser reaches it by. */
export interface PluginApi extends RunningServer {
  port: number;
  /** The method and path of every request it received, in order (preflights included). */
  received: { method: string; path: string }[];
}

/** Starts the API allowing `appOrigin` (read per request: the app's host name is known later). */
export async function startPluginApi(appOrigin: () => string): Promise<PluginApi> {
  const app = Fastify();
  const received: PluginApi['received'] = [];
  app.addHook('onRequest', async (request) => {
    received.push({ method: request.method, path: request.url.split('?')[0]! });
  });
  await app.register(
    cors,
    corsOptions({
      origin: (origin: string | undefined, done: (e: null, ok: boolean) => void) =>
        done(null, origin === appOrigin()),
    }),
  );
  await app.register(devicelink, { store: createMemoryStore() });
  app.get('/api/me', { config: { devicelink: true } }, async (request) => ({
    deviceId: request.deviceId,
    source: request.deviceSource,
  }));
  // A route a beacon or a simple text/plain POST can reach: the body's `deviceId` counts once parsed.
  app.post('/api/beacon', { config: { devicelink: true } }, async (request, reply) =>
    reply.code(202).send({ deviceId: request.deviceId, source: request.deviceSource }),
  );
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { origin: address, port: Number(new URL(address).port), received, close: () => app.close() };
}
