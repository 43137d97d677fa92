/**
 * The read and admin side, registered when `ADMIN_TOKEN` or `DASHBOARD_TOKEN` is set (else these routes
 * do not exist: 404): the device detail, the dashboard's insights, journeys and exports behind either
 * token; erasure, stats, dead letters and the audit log behind `ADMIN_TOKEN` alone. Each route group
 * keeps its token guard in a scope of its own.
 */
import type { FastifyInstance } from 'fastify';
import type { AuthFailureLimit } from '../auth/auth-failures.js';
import type { CollectorConfig } from '../config/collector-config.js';
import { edgeIdentitySource } from '../read/identity-figures.js';
import type { CollectorResources } from '../runtime/collector-resources.js';
import { adminDeadLettersRoutes } from './admin-dead-letters-route.js';
import { adminDeviceRoutes } from './admin-device-route.js';
import { adminJourneyRoutes } from './admin-journey-route.js';
import { adminStatsRoute } from './admin-stats-route.js';
import { adminUserRoutes } from './admin-user-route.js';
import { auditRoute } from './audit-route.js';
import { insightsRoutes } from './insights-routes.js';
import { pageViewExportRoute } from './page-view-export-route.js';

/** Options of {@link adminPlugin}. */
export interface AdminOptions {
  config: CollectorConfig;
  resources: CollectorResources;
  /** The failed-authentication limit every operator token counts against. */
  failures: AuthFailureLimit;
}

/** Registers the read and admin routes (own scope). */
export async function adminPlugin(app: FastifyInstance, options: AdminOptions): Promise<void> {
  const { config, resources } = options;
  const guards = {
    adminToken: config.adminToken,
    dashboardToken: config.dashboardToken,
    failures: options.failures,
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
  await app.register(pageViewExportRoute, { ...guards, db });
}
