/**
 * The operations routes: `/healthz`, `/readyz` (its details behind an operator's token unless opened)
 * and `/metrics`, on this app or, with `METRICS_PORT`, on the metrics-only app.
 */
import type { FastifyInstance } from 'fastify';
import { bearerAny } from '../auth/admin-auth.js';
import type { AuthFailureLimit } from '../auth/auth-failures.js';
import type { CollectorConfig } from '../config/collector-config.js';
import { installErrorHandlers } from '../http/error-handler.js';
import { readSecurity } from '../http/route-schemas.js';
import { metricsRoute } from './collector-metrics.js';
import { healthRoutes } from './health-routes.js';
import type { Telemetry } from './telemetry.js';

/** Options of {@link observabilityPlugin}. */
export interface ObservabilityOptions extends Telemetry {
  config: CollectorConfig;
  /** The failed-authentication limit the operator tokens count against. */
  failures: AuthFailureLimit;
  /** With `METRICS_PORT`: the app serving `/metrics` alone; null: `/metrics` is a route of this app. */
  metricsApp: FastifyInstance | null;
}

/** Registers the health routes and `/metrics` (own scope). */
export async function observabilityPlugin(
  app: FastifyInstance,
  options: ObservabilityOptions,
): Promise<void> {
  const { config, failures, metricsApp } = options;
  // /readyz details (persisters, lag, dead letters) only with an operator's token, unless opened.
  const detailTokens = [config.adminToken, config.dashboardToken, config.metricsToken];
  await app.register(healthRoutes, {
    ...options.health,
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
  const metricsOptions = { metrics: options.metrics, token: config.metricsToken, failures };
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
}
