/**
 * What /readyz, /metrics and the request counter read: the readiness monitor's background probes
 * (stopped with the app), the readiness inputs, and the collector's metrics registry.
 */
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import type { CollectorResources } from '../runtime/collector-resources.js';
import type { DatabaseRuntime } from '../runtime/database-startup.js';
import { type CollectorMetrics, countRequests, createMetrics } from './collector-metrics.js';
import { type ReadinessOptions, readinessOf } from './readiness.js';
import { ReadinessMonitor } from './readiness-monitor.js';

/** The collector's readiness inputs and metrics. */
export interface Telemetry {
  health: ReadinessOptions;
  metrics: CollectorMetrics;
}

/**
 * Starts the readiness probes (stopped in `onClose`), creates the metrics and counts every request of
 * `app` (the root instance, before any route).
 */
export async function startTelemetry(
  app: FastifyInstance,
  config: CollectorConfig,
  resources: CollectorResources,
  database: DatabaseRuntime,
): Promise<Telemetry> {
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
  return { health, metrics };
}
