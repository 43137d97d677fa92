/**
 * `buildApp(config)`: the collector as a Fastify instance that never listens (tests inject or listen on
 * port 0; `server.ts` listens). Opens its resources, migrates the database, starts the persister
 * unless `PERSISTER=off`, and closes everything in `onClose`. The routes come from four plugins (ingest,
 * read and admin, observability, dashboard), registered after the hooks every route shares.
 */
import devicelink from '@devicelink/fastify';
import type {} from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { adminPlugin } from './admin/admin-plugin.js';
import { authFailureLimit } from './auth/auth-failures.js';
import { registerTokenVerifier } from './auth/token-verifier.js';
import type { CollectorConfig } from './config/collector-config.js';
import { dashboardPlugin } from './dashboard/dashboard-plugin.js';
import { installErrorHandlers } from './http/error-handler.js';
import { requestLogRedaction } from './http/request-log.js';
import { installRequestPipeline } from './http/request-pipeline.js';
import { type BuildAppOptions, serverOptions } from './http/server-options.js';
import { windowCounter } from './http/window-counter.js';
import { deviceLinkOptions, fingerprintJoinsLine } from './ingest/device-link-options.js';
import { ingestPlugin } from './ingest/ingest-plugin.js';
import { registerApiDocs } from './observability/api-docs.js';
import { observabilityPlugin } from './observability/observability-plugin.js';
import { startTelemetry } from './observability/telemetry.js';
import { type CollectorResources, openResources } from './runtime/collector-resources.js';
import { type DatabaseRuntime, startDatabase } from './runtime/database-startup.js';

export type { BuildAppOptions } from './http/server-options.js';

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
  const app = Fastify(serverOptions(config, options, redaction));
  // The words of the routes are kept in the log of a path that matched none (http/request-log.ts).
  app.addHook('onRoute', (route) => redaction.learnRoute(route.url));
  installErrorHandlers(app);

  const resources = await openResources(config, app.log);
  let database: DatabaseRuntime | null = null;
  app.addHook('onClose', async () => {
    await database?.stop();
    await resources.close();
  });
  try {
    database = await startDatabase(config, resources, app.log);
    await registerCollector(app, config, resources, database);
    await app.ready();
    return app;
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
}

/**
 * The shared setup, then the plugins. The order is the hooks' order: a route runs the hooks its
 * instance had when it was registered, so the request counter, the docs, the request pipeline, the
 * token verifier and the devicelink plugin come first, the route plugins last.
 */
async function registerCollector(
  app: FastifyInstance,
  config: CollectorConfig,
  resources: CollectorResources,
  database: DatabaseRuntime,
): Promise<void> {
  const metricsApp = config.metricsPort === null ? null : Fastify({ loggerInstance: app.log });
  app.decorate('collector', { config, resources, mode: resources.mode, metricsApp });
  if (metricsApp) app.addHook('onClose', () => metricsApp.close());
  const telemetry = await startTelemetry(app, config, resources, database);
  await registerApiDocs(app, config);
  await installRequestPipeline(app, config);
  // One failed-authentication counter per hashed client address, shared by every route that takes an
  // operator's token (admin and read routes, /readyz details, /metrics) and by every collector on the
  // store: a valid token always passes (auth/auth-failures.ts). The ingest limits are counted by the
  // store with the page views (ingest/device-link-options.ts).
  const failures = authFailureLimit({
    max: config.adminRateLimitPerMinute,
    counter: windowCounter(resources.redis, config.redisKeyPrefix),
    dailySalt: (day) => resources.store.dailySalt(day),
    log: app.log,
  });
  const verifier = await registerTokenVerifier(app, config);
  // On the root, as a host app registers it: its onRoute hook equips the opted-in (ingest) routes.
  await app.register(devicelink, deviceLinkOptions(config, resources, verifier));
  app.log.info(fingerprintJoinsLine(config, resources));

  const { metrics } = telemetry;
  await app.register(ingestPlugin, {
    config,
    resources,
    verifier,
    onAccepted: (count, kind) => metrics.eventsAccepted.inc({ kind }, count),
    onNormalised: (field, reason) => metrics.normalisedFields.inc({ field, reason }),
    onConverted: () => metrics.conversions.inc(),
  });
  if (config.adminToken || config.dashboardToken) {
    await app.register(adminPlugin, { config, resources, failures });
  }
  await app.register(dashboardPlugin, { config, verifier });
  await app.register(observabilityPlugin, { ...telemetry, config, failures, metricsApp });
}
