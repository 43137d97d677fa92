/**
 * A small host app for the plugin tests: the collector's two tracking routes in miniature, a route
 * that does not opt in, and a text/plain beacon path. Built, never listened here.
 */
import { parseEventsBody } from '@devicelink/protocol';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import devicelink, {
  createMemoryStore,
  type DeviceAdmin,
  type DeviceLinkPluginOptions,
  type DeviceStore,
  type QueueConsumer,
} from '../src/index.js';

/** Valid ids for tests (32 hex, like a FingerprintJS visitorId, and a 22-char base64url). */
export const HEADER_ID = '0123456789abcdef0123456789abcdef';
export const COOKIE_ID = 'cookieId_0123456789-AB';
export const BODY_ID = 'bodyId_0123456789abcdefXYZ';

/** A fresh app over `options` (memory stores unless given), with the test routes. */
export async function buildTestApp(
  options: Partial<DeviceLinkPluginOptions> = {},
  configure?: (app: FastifyInstance) => Promise<void> | void,
  fastifyOptions: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, ...fastifyOptions });
  const own = options.store ? null : createMemoryStore();
  if (configure) await configure(app);
  await app.register(devicelink, { store: (options.store ?? own) as DeviceStore, ...options });
  if (own) app.addHook('onClose', () => own.close());

  // The collector's /v1/events: JSON or a text/plain beacon (Fastify's default text parser leaves
  // the string; the plugin reads `deviceId` from it, the route parses it like the collector does).
  app.post('/v1/events', { config: { devicelink: true } }, async (request, reply) => {
    const parsed = parseEventsBody(request.body);
    if (!parsed.ok) return reply.code(400).send({ statusCode: 400, ...parsed.error });
    const result = await app.devicelink.track(request, parsed.value.events);
    return reply.code(202).send(result);
  });
  app.get('/v1/session', { config: { devicelink: true } }, async (request) => ({
    deviceId: request.deviceId,
    source: request.deviceSource,
  }));
  // Not opted in: like /healthz, /metrics and admin routes.
  app.get('/healthz', async (request) => ({ ok: true, deviceId: request.deviceId }));
  return app;
}

/** The app's store with its admin and queue sides (every backend's store has all three). */
export const storeOf = (app: FastifyInstance): DeviceStore & DeviceAdmin & QueueConsumer =>
  app.devicelink.store as DeviceStore & DeviceAdmin & QueueConsumer;

/** A one-page-view events body. */
export function eventsBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { events: [{ type: 'pageview', url: 'https://shop.example/products?utm_source=x' }], ...extra };
}

/** The `Set-Cookie` headers of a response as an array. */
export function setCookies(headers: Record<string, unknown>): string[] {
  const v = headers['set-cookie'];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}
