/**
 * The pages the collector serves: the dashboard at `/dashboard/` (with `ADMIN_TOKEN` or
 * `DASHBOARD_TOKEN`) and, with `DEMO=1`, the demo app and its login.
 */
import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { CollectorConfig } from '../config/collector-config.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { demoRoutes } from './demo-routes.js';

/** Options of {@link dashboardPlugin}. */
export interface DashboardOptions {
  config: CollectorConfig;
  /** Signs the demo users' tokens (demo mode). */
  verifier: TokenVerifier;
}

/** Registers the dashboard's and the demo's routes (own scope). */
export async function dashboardPlugin(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const { config } = options;
  if (config.adminToken || config.dashboardToken) {
    await app.register(dashboardRoutes, { production: config.production });
  }
  if (config.demo) await app.register(demoRoutes, { verifier: options.verifier });
}
