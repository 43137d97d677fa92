/**
 * The hooks every route runs before its own, added to the root instance ahead of the routes (a route
 * gets the hooks its instance had when it was registered): CORS (`CORS_ORIGINS`), the Origin check,
 * non-finite numbers refused, bodies of DELETE requests ignored.
 */
import { corsOptions } from '@devicelink/fastify';
import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import { ignoreDeleteBodies } from './delete-bodies.js';
import { refuseNonFiniteNumbers } from './finite-numbers.js';
import { installRequestGuards } from './request-guards.js';

/** Adds the shared request hooks to `app` (the root instance, before any route). */
export async function installRequestPipeline(app: FastifyInstance, config: CollectorConfig): Promise<void> {
  if (config.corsOrigins) {
    await app.register(fastifyCors, corsOptions({ origin: [...config.corsOrigins] }));
  }
  // The Origin check runs before any token or store work.
  installRequestGuards(app, { corsOrigins: config.corsOrigins });
  refuseNonFiniteNumbers(app);
  ignoreDeleteBodies(app);
}
