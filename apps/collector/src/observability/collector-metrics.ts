/**
 * The collector's Prometheus metrics (prom-client), on a registry of its own per app: two collectors in
 * one process (tests) never share counters, and nothing is registered at import time.
 *
 * | series | type | labels |
 * | --- | --- | --- |
 * | `devicelink_http_requests_total` | counter | `method`, `route` (the route pattern; `unmatched` for 404s), `status` |
 * | `devicelink_events_accepted_total` | counter | `kind` (`device`, `user`) |
 * | `devicelink_conversions_total` | counter | (identify calls that appended a link) |
 * | `devicelink_normalised_fields_total` | counter | `field` (`url`, `referrer`, `user_agent`, a kept query parameter), `reason` (`ill_formed`, `too_long`) |
 * | `devicelink_queue_depth` | gauge | `partition` (entries not yet acknowledged) |
 * | `devicelink_process_*`, `devicelink_nodejs_*` | prom-client's default process metrics |
 *
 * and the readiness gauges (`readiness-gauges.ts`: store, Postgres, lag, owners, persisters, dead
 * letters, halted and stuck partitions), read from the state /readyz answers from. Queue depth is
 * sampled when scraped, never on the request path.
 */
import type { PartitionLeases, QueueConsumer } from '@devicelink/fastify';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { bearerCheck } from '../auth/admin-auth.js';
import type { AuthFailureLimit } from '../auth/auth-failures.js';
import { MetricsUnauthorizedError } from '../http/errors.js';
import { PROBE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import { errorResponses } from '../http/route-schemas.js';
import type { Readiness } from './readiness.js';
import { registerReadinessGauges } from './readiness-gauges.js';

/** What the scrape-time gauges read. */
export interface MetricsSources {
  queue: QueueConsumer & PartitionLeases;
  /** The state /readyz answers from (the background probes'): the readiness gauges read it. */
  readiness: () => Readiness;
}

/** The collector's metrics. */
export interface CollectorMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly eventsAccepted: Counter<'kind'>;
  readonly conversions: Counter<string>;
  readonly normalisedFields: Counter<'field' | 'reason'>;
}

/**
 * Creates the registry and every metric of the collector.
 *
 * @example
 * const metrics = createMetrics({ queue, readiness: () => readinessOf(health, 'ingest', Date.now()) });
 * metrics.eventsAccepted.inc({ kind: 'device' }, 3);
 */
export function createMetrics(sources: MetricsSources): CollectorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'devicelink_' });
  const { queue } = sources;
  const partitions = Array.from({ length: queue.partitions }, (_, p) => p);

  const httpRequests = new Counter({
    name: 'devicelink_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const eventsAccepted = new Counter({
    name: 'devicelink_events_accepted_total',
    help: 'Page views accepted onto the queue (202), by kind: device (anonymous) or user (bearer token).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const conversions = new Counter({
    name: 'devicelink_conversions_total',
    help: 'Conversions: identify calls that appended an identity link.',
    registers: [registry],
  });
  const normalisedFields = new Counter({
    name: 'devicelink_normalised_fields_total',
    help:
      'Values of accepted page views stored normalised rather than refused, by field (url, referrer, ' +
      'user_agent, or a kept query parameter) and reason: ill_formed (lone surrogates made U+FFFD) or ' +
      'too_long (cut at the limit).',
    labelNames: ['field', 'reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'devicelink_queue_depth',
    help: 'Queue entries not yet acknowledged (unread plus pending), by partition.',
    labelNames: ['partition'] as const,
    registers: [registry],
    async collect() {
      try {
        const depths = await within(Promise.all(partitions.map((p) => queue.depth(p))), PROBE_TIMEOUT_MS);
        for (const [p, d] of depths.entries()) this.set({ partition: String(p) }, d);
      } catch {
        // The store is unreachable: no sample rather than a failed scrape (readyz says why).
        this.reset();
      }
    },
  });
  registerReadinessGauges(registry, sources.readiness);
  return { registry, httpRequests, eventsAccepted, conversions, normalisedFields };
}

/**
 * Counts every answered request, by route pattern (never the raw URL: ids in paths would explode the
 * series count). Call on the root instance before the routes are registered.
 */
export function countRequests(app: FastifyInstance, metrics: CollectorMetrics): void {
  // One child counter per series, kept: a labels object per request is hashed (keys sorted) each time.
  // The series are bounded (methods x route patterns x statuses), so the map is too.
  const series = new Map<string, { inc(): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    const key = `${request.method} ${route} ${status}`;
    let child = series.get(key);
    if (child === undefined) {
      child = metrics.httpRequests.labels({ method: request.method, route, status });
      series.set(key, child);
    }
    child.inc();
    done();
  });
}

/** Options of {@link metricsRoute}. */
export interface MetricsRouteOptions {
  metrics: CollectorMetrics;
  /** `METRICS_TOKEN`: when set, scrapes must send `Authorization: Bearer <token>`. */
  token: string | null;
  /** The failed-authentication limit a wrong token counts against (429 past it); null: none. */
  failures?: AuthFailureLimit | null;
}

/**
 * Serves `GET /metrics`, behind `METRICS_TOKEN` when set. No device work: the route does not opt in to
 * tracking. Registered on the app, or on the metrics-only app when `METRICS_PORT` is set.
 */
export async function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const { registry } = options.metrics;
  if (options.token) {
    const check = bearerCheck(options.token, () => new MetricsUnauthorizedError(), options.failures ?? null);
    app.addHook('onRequest', check);
  }
  app.get(
    '/metrics',
    {
      schema: {
        description:
          'Prometheus text exposition (format 0.0.4) of the collector metrics. With `METRICS_TOKEN` set it ' +
          'needs `Authorization: Bearer <METRICS_TOKEN>`; with `METRICS_PORT` set it is served there only.',
        ...(options.token ? { security: [{ metricsToken: [] }] } : {}),
        response: {
          200: {
            description: 'The metrics.',
            content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
          },
          ...(options.token ? errorResponses(401, ...(options.failures ? [429] : [])) : {}),
        },
      },
    },
    async (_request, reply) => {
      const text = await registry.metrics();
      reply.header('content-type', registry.contentType);
      return text;
    },
  );
}
