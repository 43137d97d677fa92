/**
 * The ingest side (docs/protocol.md, HTTP API): the routes the SDK calls: page views, identify, the
 * device's own routes, and the debug session route (`DEBUG_ROUTES` or `DEMO`). They use the devicelink
 * plugin registered on the root before them (`device-link-options.ts`).
 */
import type { OnNormalised } from '@devicelink/protocol';
import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { CollectorConfig } from '../config/collector-config.js';
import type { CollectorResources } from '../runtime/collector-resources.js';
import { deviceRoutes } from './device-routes.js';
import { eventsRoute } from './events-route.js';
import { identifyRoute } from './identify-route.js';
import { sessionRoute } from './session-route.js';

/** Options of {@link ingestPlugin}. */
export interface IngestOptions {
  config: CollectorConfig;
  resources: CollectorResources;
  /** Verifies the bearer tokens of identify. */
  verifier: TokenVerifier;
  /** Called with the number of page views a request put on the queue (metrics). */
  onAccepted: (count: number, kind: 'device' | 'user') => void;
  /** Called for each field of an accepted body made well-formed or cut (metrics). */
  onNormalised: OnNormalised;
  /** Called when identify appended a link (metrics). */
  onConverted: () => void;
}

/** Registers the ingest routes (own scope). */
export async function ingestPlugin(app: FastifyInstance, options: IngestOptions): Promise<void> {
  const { config, resources, verifier } = options;
  await app.register(eventsRoute, {
    queryAllowlist: config.queryAllowlist,
    onAccepted: options.onAccepted,
    onNormalised: options.onNormalised,
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
