/**
 * `buildApp(config)`: the collector as a Fastify instance that never listens (tests inject or listen on
 * port 0; `server.ts` listens). Opens its resources, migrates the database, starts the persister
 * unless `PERSISTER=off`, and closes everything in `onClose`.
 */
import devicelink, { corsOptions } from '@devicelink/fastify';
import type {} from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { bearerAny } from './auth/admin-auth.js';
import { authFailureLimit } from './auth/auth-failures.js';
import { authenticateWith, registerTokenVerifier } from './auth/token-verifier.js';
import type { CollectorConfig } from './config/collector-config.js';
import { clientErrorHandler } from './http/client-errors.js';
import { ignoreDeleteBodies } from './http/delete-bodies.js';
import { installErrorHandlers } from './http/error-handler.js';
import { InvalidRequestError, PathTooLongError } from './http/errors.js';
import { refuseNonFiniteNumbers } from './http/finite-numbers.js';
import { openapiDocument, swaggerUiOptions, tagOperation } from './observability/openapi-document.js';
import { type ReadinessOptions, readinessOf } from './observability/readiness.js';
import { ReadinessMonitor } from './observability/readiness-monitor.js';
import { installRequestGuards } from './http/request-guards.js';
import { OneLinePerRequest, prettyLogStream, requestLogRedaction } from './http/request-log.js';
import { windowCounter } from './http/window-counter.js';
import { edgeIdentitySource } from './read/identity-figures.js';
import { adminDeadLettersRoutes } from './admin/admin-dead-letters-route.js';
import { adminDeviceRoutes } from './admin/admin-device-route.js';
import { adminJourneyRoutes } from './admin/admin-journey-route.js';
import { adminStatsRoute } from './admin/admin-stats-route.js';
import { adminUserRoutes } from './admin/admin-user-route.js';
import { countRequests, createMetrics, metricsRoute } from './observability/collector-metrics.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import { demoRoutes } from './dashboard/demo-routes.js';
import { deviceRoutes } from './ingest/device-routes.js';
import { readSecurity } from './http/route-schemas.js';
import { eventsRoute } from './ingest/events-route.js';
import { auditRoute, exportRoutes } from './admin/export-routes.js';
import { healthRoutes } from './observability/health-routes.js';
import { identifyRoute } from './ingest/identify-route.js';
import { insightsRoutes } from './admin/insights-routes.js';
import { sessionRoute } from './ingest/session-route.js';
import { type CollectorResources, openResources } from './runtime/collector-resources.js';
import { startDatabase } from './runtime/database-startup.js';
import { errorLogSerializer } from './runtime/error-log.js';

/** Extra, non-configuration options of {@link buildApp}. */
export interface BuildAppOptions {
  /** Overrides the logger (tests pass `false`). Default: JSON logs at `LOG_LEVEL`. */
  logger?: boolean;
  /** Where the JSON log lines go (default stdout); tests capture them to scan for addresses and tokens. */
  logStream?: { write(line: string): void };
  /**
   * Log lines for a person at a terminal (pino-pretty: time, level, message) instead of JSON; server.ts
   * sets it when stdout is a TTY, so a log shipper reading a pipe still gets JSON.
   */
  prettyLog?: boolean;
}

/** The per-address limit is this many times `RATE_LIMIT_PER_MINUTE` (one address, many devices). */
const ADDRESS_LIMIT_FACTOR = 10;

declare module 'fastify' {
  interface FastifyInstance {
    /** The collector's open resources and persister (for server.ts and tests). */
    collector: {
      config: CollectorConfig;
      resources: CollectorResources;
      mode: string;
      /**
       * With `METRICS_PORT`: the app serving `/metrics` alone (not listening; server.ts listens on
       * it, closed with this app). Null: `/metrics` is a route of this app.
       */
      metricsApp: FastifyInstance | null;
    };
  }
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
  const redaction = requestLogRedaction();
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            ...(options.logStream
              ? { stream: options.logStream }
              : options.prettyLog
                ? { stream: prettyLogStream() }
                : {}),
            // No client address, no query string (tokens, ids), no path parameter (device and user
            // ids of admin routes, which must not outlive an erasure in the logs) and no raw segment
            // of a path that missed its route in request logs; errors without their commands' keys
            // or their rows' values (http/request-log.ts).
            serializers: { req: redaction.serializer, err: errorLogSerializer },
          },
    // One line per request, when it ends (Fastify's default adds one as it comes in).
    logController: new OneLinePerRequest(),
    // A hop count is valid at runtime (proxy-addr) though Fastify's types only list boolean/string/array.
    trustProxy: (Array.isArray(config.trustProxy) ? [...config.trustProxy] : config.trustProxy) as
      | boolean
      | string[],
    bodyLimit: 64 * 1024,
    // Slow clients: a body trickled a byte at a time is cut after requestTimeout (408), a half-sent one
    // after connectionTimeout of silence. Node checks requestTimeout every connectionsCheckingInterval
    // (30 s by default, which would double the bound), and headersTimeout must not exceed it.
    requestTimeout: config.requestTimeoutSeconds * 1000,
    connectionTimeout: config.connectionTimeoutSeconds * 1000,
    // An idle keep-alive connection closes after the same silence (Fastify's default keeps it 72 s).
    keepAliveTimeout: config.connectionTimeoutSeconds * 1000,
    http: {
      connectionsCheckingInterval: Math.min(1000, config.requestTimeoutSeconds * 250),
      headersTimeout: config.requestTimeoutSeconds * 1000,
    },
    // Refused by Node's parser or timed out before a route saw them: DL_ bodies too.
    clientErrorHandler,
    // Room for a 256-character user id in the erasure route (Fastify's default is 100).
    routerOptions: { maxParamLength: 300 },
    // Router-level refusals (a path parameter too long, a malformed URL) get DL_ codes too.
    frameworkErrors: (error, _request, reply) => {
      const refused =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new PathTooLongError()
          : new InvalidRequestError(error.message);
      // The framework's reply type carries no route schema to check against.
      (reply as unknown as FastifyReply).code(refused.statusCode ?? 400).send(refused);
    },
    // Fastify's default would log the raw client address on every request line.
  });
  // The words of the routes are kept in the log of a path that matched none (http/request-log.ts).
  app.addHook('onRoute', (route) => redaction.learnRoute(route.url));
  installErrorHandlers(app);

  const resources = await openResources(config, app.log);
  let database: Awaited<ReturnType<typeof startDatabase>> | null = null;
  app.addHook('onClose', async () => {
    await database?.stop();
    await resources.close();
  });
  try {
    database = await startDatabase(config, resources, app.log);
    const metricsApp = config.metricsPort === null ? null : Fastify({ loggerInstance: app.log });
    app.decorate('collector', { config, resources, mode: resources.mode, metricsApp });
    if (metricsApp) app.addHook('onClose', () => metricsApp.close());

    // /readyz and the readiness gauges answer from what these background probes keep.
    const monitor = new ReadinessMonitor({
      store: resources.store,
      redis: resources.redis,
      redisKeyPrefix: config.redisKeyPrefix,
      db: resources.db.db,
    });
    app.addHook('onClose', () => monitor.stop());
    await monitor.start();
    const leaseMs = config.persisterLeaseSeconds * 1000;
    const health: ReadinessOptions = {
      monitor,
      persister: database.persister,
      migrations: database.migrations,
      store: resources.redis ? 'redis' : 'embedded',
      stuckMs: leaseMs,
      stallMs: leaseMs / 2,
    };
    const metrics = createMetrics({
      queue: resources.store,
      readiness: () => readinessOf(health, 'ingest', Date.now()),
    });
    countRequests(app, metrics);

    await app.register(fastifySwagger, { openapi: openapiDocument(config), transform: tagOperation });
    // `/docs` (a browsable reference, assets served from this process) and `/docs/json`: the document
    // of every route, generated from the route schemas.
    await app.register(fastifySwaggerUi, swaggerUiOptions());

    if (config.corsOrigins) {
      await app.register(fastifyCors, corsOptions({ origin: [...config.corsOrigins] }));
    }

    // The Origin check runs before any token or store work.
    installRequestGuards(app, { corsOrigins: config.corsOrigins });
    refuseNonFiniteNumbers(app);
    ignoreDeleteBodies(app);

    // One failed-authentication counter per hashed client address, shared by every route that takes an
    // operator's token (admin and read routes, /readyz details, /metrics) and by every collector on the
    // store: a valid token always passes (auth/auth-failures.ts). The ingest limits are counted by the
    // store with the page views (the devicelink rateLimit option below).
    const failures = authFailureLimit({
      max: config.adminRateLimitPerMinute,
      counter: windowCounter(resources.redis, config.redisKeyPrefix),
      dailySalt: (day) => resources.store.dailySalt(day),
      log: app.log,
    });

    const verifier = await registerTokenVerifier(app, config);
    await app.register(devicelink, {
      store: resources.store,
      cookie: {
        secure: config.cookieSecure,
        sameSite: config.cookieSameSite,
        ...(config.cookieDomain ? { domain: config.cookieDomain } : {}),
        partitioned: config.cookiePartitioned,
      },
      honorGpc: config.honorGpc,
      queryAllowlist: config.queryAllowlist,
      authenticate: authenticateWith(verifier),
      // Counted by the store in the same step as the page views (one round trip): per device id, or
      // per address without one; the looser per-address limit bounds a client that sends a fresh
      // random device id each request (every device behind one NAT shares it, hence the factor).
      rateLimit: {
        max: config.rateLimitPerMinute,
        addressMax: ADDRESS_LIMIT_FACTOR * config.rateLimitPerMinute,
        windowMs: 60_000,
        // New ids per network (NEW_IDS_*), counted in the same step, only for a device the store
        // does not know: one network cannot fill Redis with fresh ids.
        newIds: {
          windowMs: config.newIdLimits.windowSeconds * 1000,
          perAddress: config.newIdLimits.perAddress,
          perNetwork: config.newIdLimits.perNetwork,
          perBlock: config.newIdLimits.perBlock,
        },
      },
      recovery: resources.recoverySecret ? { secret: resources.recoverySecret } : null,
      botFilter: config.botFilter.enabled ? { allowlist: config.botFilter.allowlist } : false,
    });
    app.log.info(
      resources.recoverySecret
        ? `fingerprint joins on (RECOVERY_DAYS=${config.recovery.days})`
        : config.recovery.enabled
          ? 'fingerprint joins off: RECOVERY_SECRET is not set (every collector on this store needs the same one)'
          : 'fingerprint joins off (RECOVERY=off)',
    );

    await app.register(eventsRoute, {
      queryAllowlist: config.queryAllowlist,
      onAccepted: (count, kind) => metrics.eventsAccepted.inc({ kind }, count),
    });
    await app.register(identifyRoute, {
      verifier,
      honorGpc: config.honorGpc,
      onConverted: () => metrics.conversions.inc(),
    });
    await app.register(deviceRoutes, { store: resources.store });
    if (config.debugRoutes || config.demo) {
      await app.register(sessionRoute, { store: resources.store, db: resources.db.db });
    }
    if (config.adminToken || config.dashboardToken) {
      const guards = {
        adminToken: config.adminToken,
        dashboardToken: config.dashboardToken,
        failures,
      };
      const db = resources.db.db;
      // The detail takes either token; its erasure (registered only with ADMIN_TOKEN) the admin token.
      await app.register(adminDeviceRoutes, { ...guards, db, store: resources.store });
      if (config.adminToken) {
        await app.register(adminUserRoutes, { ...guards, db, store: resources.store });
        await app.register(adminStatsRoute, { ...guards, db });
        await app.register(adminDeadLettersRoutes, {
          ...guards,
          db,
          lookbackDays: config.conversionLookbackDays,
        });
        await app.register(auditRoute, { ...guards, db });
      }
      await app.register(insightsRoutes, { ...guards, db, identity: edgeIdentitySource });
      await app.register(adminJourneyRoutes, { ...guards, db });
      await app.register(exportRoutes, { ...guards, db });
      await app.register(dashboardRoutes, { production: config.production });
    }
    // /readyz details (persisters, lag, dead letters) only with an operator's token, unless opened.
    const detailTokens = [config.adminToken, config.dashboardToken, config.metricsToken];
    await app.register(healthRoutes, {
      ...health,
      details: config.readyzDetailsOpen
        ? null
        : {
            allowed: bearerAny(detailTokens, failures),
            security: [
              ...readSecurity(config),
              ...(config.metricsToken !== null ? [{ metricsToken: [] }] : []),
            ],
          },
    });
    const metricsOptions = { metrics, token: config.metricsToken, failures };
    if (metricsApp) {
      installErrorHandlers(metricsApp);
      await metricsApp.register(metricsRoute, metricsOptions);
      await metricsApp.ready();
    } else if (config.production && config.metricsToken === null) {
      // Production closes /metrics on the public port unless a token guards it (it tells the Node
      // version, the queue's depth and the persisters' names): METRICS_TOKEN, or METRICS_PORT.
      app.log.warn('/metrics is off: with NODE_ENV=production set METRICS_TOKEN or METRICS_PORT to serve it');
    } else {
      await app.register(metricsRoute, metricsOptions);
    }
    if (config.demo) await app.register(demoRoutes, { verifier });
    await app.ready();
    return app;
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
}
