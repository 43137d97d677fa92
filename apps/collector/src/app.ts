/**
 * `buildApp(config)`: the collector as a Fastify instance that never listens (tests inject or listen on
 * port 0; `server.ts` listens). Opens its resources, migrates the database, starts the persister
 * unless `PERSISTER=off`, and closes everything in `onClose`.
 */
import { createHmac } from 'node:crypto';
import devicelink, { corsOptions, utcDay } from '@devicelink/fastify';
import { DEVICE_COOKIE, DEVICE_HEADER, toDeviceId } from '@devicelink/protocol';
import type {} from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { authenticateWith, registerTokenVerifier } from './auth/token-verifier.js';
import type { CollectorConfig } from './config/collector-config.js';
import { installErrorHandlers } from './http/error-handler.js';
import { RateLimitedError } from './http/errors.js';
import { adminDeviceRoutes } from './routes/admin-device-route.js';
import { demoRoutes } from './routes/demo-routes.js';
import { eventsRoute } from './routes/events-route.js';
import { healthRoutes } from './routes/health-routes.js';
import { identifyRoute } from './routes/identify-route.js';
import { sessionRoute } from './routes/session-route.js';
import { type CollectorResources, openResources } from './runtime/collector-resources.js';
import { startDatabase } from './runtime/database-startup.js';

/** Extra, non-configuration options of {@link buildApp}. */
export interface BuildAppOptions {
  /** Overrides the logger (tests pass `false`). Default: JSON logs at `LOG_LEVEL`. */
  logger?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The collector's open resources and persister (for server.ts and tests). */
    collector: {
      config: CollectorConfig;
      resources: CollectorResources;
      mode: string;
    };
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Builds the collector. Throws (after closing what it opened) when a resource cannot be opened, e.g. a
 * data directory locked by another process.
 *
 * @example
 * const app = await buildApp(loadConfig({ DATA_DIR: tmp }));
 * const res = await app.inject({ method: 'POST', url: '/v1/events', payload });
 * await app.close();
 */
export async function buildApp(
  config: CollectorConfig,
  options: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            // No client address and no query string (tokens, ids) in request logs.
            serializers: {
              req: (req) => ({ method: req.method, url: (req.url ?? '').split('?')[0] }),
            },
          },
    // A hop count is valid at runtime (proxy-addr) though Fastify's types only list boolean/string/array.
    trustProxy: (Array.isArray(config.trustProxy) ? [...config.trustProxy] : config.trustProxy) as
      | boolean
      | string[],
    bodyLimit: 64 * 1024,
    // Fastify's default would log the raw client address on every request line.
  });
  installErrorHandlers(app);

  const resources = await openResources(config, app.log);
  let database: Awaited<ReturnType<typeof startDatabase>> | null = null;
  app.addHook('onClose', async () => {
    await database?.stop();
    await resources.close();
  });
  try {
    database = await startDatabase(config, resources, app.log);
    app.decorate('collector', { config, resources, mode: resources.mode });

    await app.register(fastifySwagger, {
      openapi: { info: { title: 'devicelink collector', version: '0.1.0' } },
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    if (config.corsOrigins) {
      await app.register(fastifyCors, corsOptions({ origin: [...config.corsOrigins] }));
    }

    const rateLimitKey = async (request: FastifyRequest): Promise<string> => {
      const device =
        toDeviceId(firstHeader(request.headers[DEVICE_HEADER.toLowerCase()])) ??
        toDeviceId(request.cookies?.[DEVICE_COOKIE]);
      if (device) return `d:${device}`;
      // Per hashed client address; the raw address never becomes a Redis key.
      const salt = await resources.sessions.dailySalt(utcDay(Date.now()));
      return `a:${createHmac('sha256', salt).update(request.ip).digest('base64url')}`;
    };
    await app.register(fastifyRateLimit, {
      global: false,
      ...(resources.redis ? { redis: resources.redis, nameSpace: `${config.redisKeyPrefix}rl:` } : {}),
      // A rate-limit store outage must not refuse events the queue could take.
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new RateLimitedError(
          `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`,
        ),
    });
    const rateLimit = { max: config.rateLimitPerMinute, keyGenerator: rateLimitKey };

    const verifier = await registerTokenVerifier(app, config);
    await app.register(devicelink, {
      sessions: resources.sessions,
      queue: resources.queue,
      cookie: { secure: config.cookieSecure, sameSite: config.cookieSameSite },
      honorGpc: config.honorGpc,
      authenticate: authenticateWith(verifier),
    });

    await app.register(eventsRoute, {
      queryAllowlist: config.queryAllowlist,
      corsOrigins: config.corsOrigins,
      rateLimit,
    });
    await app.register(identifyRoute, { verifier, rateLimit });
    if (config.debugRoutes || config.demo) await app.register(sessionRoute);
    if (config.adminToken) {
      await app.register(adminDeviceRoutes, { adminToken: config.adminToken, db: resources.db.db });
    }
    await app.register(healthRoutes, {
      queue: resources.queue,
      db: resources.db.db,
      persister: database.persister,
      store: resources.redis ? 'redis' : 'embedded',
    });
    if (config.demo) await app.register(demoRoutes, { verifier });
    await app.ready();
    return app;
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
}
