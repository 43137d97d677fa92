/**
 * The ingest side (docs/protocol.md, HTTP API): the devicelink plugin and the routes the SDK calls:
 * page views, identify, the device's own routes, and the debug session route (`DEBUG_ROUTES` or `DEMO`).
 * Its own scope: the plugin's decorations and hooks reach these routes alone.
 */
import devicelink from '@devicelink/fastify';
import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { CollectorConfig } from '../config/collector-config.js';
import type { CollectorResources } from '../runtime/collector-resources.js';
import { deviceLinkOptions, fingerprintJoinsLine } from './device-link-options.js';
import { deviceRoutes } from './device-routes.js';
import { eventsRoute } from './events-route.js';
import { identifyRoute } from './identify-route.js';
import { sessionRoute } from './session-route.js';

/** Options of {@link ingestPlugin}. */
export interface IngestOptions {
  config: CollectorConfig;
  resources: CollectorResources;
  /** Verifies the bearer tokens of identify and of signed-in page views. */
  verifier: TokenVerifier;
  /** Called with the number of page views a request put on the queue (metrics). */
  onAccepted: (count: number, kind: 'device' | 'user') => void;
  /** Called when identify appended a link (metrics). */
  onConverted: () => void;
}

/** Registers the devicelink plugin and the ingest routes (own scope). */
export async function ingestPlugin(app: FastifyInstance, options: IngestOptions): Promise<void> {
  const { config, resources, verifier } = options;
  await app.register(devicelink, deviceLinkOptions(config, resources, verifier));
  app.log.info(fingerprintJoinsLine(config, resources));
  await app.register(eventsRoute, {
    queryAllowlist: config.queryAllowlist,
    onAccepted: options.onAccepted,
  });
  await app.register(identifyRoute, {
    verifier,
    honorGpc: config.honorGpc,
    onConverted: options.onConverted,
  });
  await app.register(deviceRoutes, { store: resources.store });
  if (config.debugRoutes || config.demo) {
    await app.register(sessionRoute, { store: resources.store, db: resources.db.db });
  }
}
