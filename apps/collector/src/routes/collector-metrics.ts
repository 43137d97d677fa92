/**
 * The collector's Prometheus metrics (prom-client), on a registry of its own per app: two collectors in
 * one process (tests) never share counters, and nothing is registered at import time.
 *
 * | series | type | labels |
 * | --- | --- | --- |
 * | `devicelink_http_requests_total` | counter | `method`, `route` (the route pattern; `unmatched` for 404s), `status` |
 * | `devicelink_events_accepted_total` | counter | `kind` (`device`, `user`) |
 * | `devicelink_conversions_total` | counter | (identify calls that appended a link) |
 * | `devicelink_queue_depth` | gauge | `partition` (entries not yet acknowledged) |
 * | `devicelink_persist_lag_seconds` | gauge | `partition` (age of the oldest unpersisted entry; `all` when the queue cannot tell per partition) |
 * | `devicelink_postgres_up` | gauge | 1 when Postgres answers, else 0 |
 * | `devicelink_partition_owner` | gauge | `partition`, `owner`: 1 for the persister holding the partition's lease (no series: unowned) |
 * | `devicelink_persister_partitions` | gauge | `member`: partitions each live persister holds |
 * | `devicelink_persister_stalled` | gauge | `member`: 1 when it owns partitions but completed no pass for half a lease time |
 * | `devicelink_persister_last_pass_age_seconds` | gauge | `member`: time since its last completed pass |
 * | `devicelink_process_*`, `devicelink_nodejs_*` | prom-client's default process metrics |
 *
 * Queue depth, lag and Postgres are sampled when scraped, not on the request path.
 */
import type { PartitionLeases, QueueConsumer } from '@devicelink/fastify';
import type { Database } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { bearerCheck } from '../auth/admin-auth.js';
import { MetricsUnauthorizedError } from '../http/errors.js';
import { PROBE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import { errorResponses } from './error-schema.js';
import { persistenceOf } from './health-routes.js';

/** What the scrape-time gauges read. */
export interface MetricsSources {
  queue: QueueConsumer & PartitionLeases;
  db: Kysely<Database>;
  /** The persister's lag, ms, for queues without a per-partition `oldest`; null without a persister. */
  persistLagMs: () => number | null;
}

/** The collector's metrics. */
export interface CollectorMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly eventsAccepted: Counter<'kind'>;
  readonly conversions: Counter<string>;
}

/**
 * Creates the registry and every metric of the collector.
 *
 * @example
 * const metrics = createMetrics({ queue, db, persistLagMs: () => persister?.status().lagMs ?? null });
 * metrics.eventsAccepted.inc({ kind: 'device' }, 3);
 */
export function createMetrics(sources: MetricsSources): CollectorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'devicelink_' });
  const { queue, db } = sources;
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
  new Gauge({
    name: 'devicelink_persist_lag_seconds',
    help: 'Age of the oldest queued entry not yet persisted to Postgres, seconds, by partition.',
    labelNames: ['partition'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const oldest = queue.oldest?.bind(queue);
      if (oldest) {
        try {
          const now = Date.now();
          const found = await within(Promise.all(partitions.map((p) => oldest(p))), PROBE_TIMEOUT_MS);
          for (const [p, ts] of found.entries()) {
            this.set({ partition: String(p) }, ts === null ? 0 : Math.max(0, now - ts) / 1000);
          }
        } catch {
          // Unreachable store: no sample.
        }
        return;
      }
      const lag = sources.persistLagMs();
      if (lag !== null) this.set({ partition: 'all' }, lag / 1000);
    },
  });
  new Gauge({
    name: 'devicelink_postgres_up',
    help: '1 when Postgres answers a probe, else 0.',
    registers: [registry],
    async collect() {
      try {
        await within(sql`select 1`.execute(db), PROBE_TIMEOUT_MS);
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
  // Owners and persisters: one read of the store per scrape, shared by the four gauges.
  let sample: { at: number; value: Promise<Awaited<ReturnType<typeof persistenceOf>> | null> } | null = null;
  const persistence = () => {
    if (!sample || Date.now() - sample.at > 500) {
      sample = {
        at: Date.now(),
        value: within(persistenceOf(queue), PROBE_TIMEOUT_MS).catch(() => null),
      };
    }
    return sample.value;
  };
  new Gauge({
    name: 'devicelink_partition_owner',
    help: '1 for the persister holding the lease of each queue partition (no series for an unowned one).',
    labelNames: ['partition', 'owner'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of (await persistence())?.partitions ?? []) {
        if (p.owner !== null) this.set({ partition: String(p.partition), owner: p.owner }, 1);
      }
    },
  });
  const perMember = (
    name: string,
    help: string,
    value: (m: Awaited<ReturnType<typeof persistenceOf>>['persisters'][number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['member'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const m of (await persistence())?.persisters ?? []) this.set({ member: m.member }, value(m));
      },
    });
  perMember('devicelink_persister_partitions', 'Partitions each live persister holds.', (m) => m.partitions);
  perMember(
    'devicelink_persister_stalled',
    '1 when a persister owns partitions but completed no pass for half a lease time (it cannot commit).',
    (m) => (m.stalled ? 1 : 0),
  );
  perMember(
    'devicelink_persister_last_pass_age_seconds',
    'Seconds since each persister last completed a pass (committed, or found its partitions empty).',
    (m) => (m.lastPassAt ? Math.max(0, Date.now() - Date.parse(m.lastPassAt)) / 1000 : -1),
  );
  return { registry, httpRequests, eventsAccepted, conversions };
}

/**
 * Counts every answered request, by route pattern (never the raw URL: ids in paths would explode the
 * series count). Call on the root instance before the routes are registered.
 */
export function countRequests(app: FastifyInstance, metrics: CollectorMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });
}

/** Options of {@link metricsRoute}. */
export interface MetricsRouteOptions {
  metrics: CollectorMetrics;
  /** `METRICS_TOKEN`: when set, scrapes must send `Authorization: Bearer <token>`. */
  token: string | null;
}

/**
 * Serves `GET /metrics`, behind `METRICS_TOKEN` when set. No device work: the route does not opt in to
 * tracking. Registered on the app, or on the metrics-only app when `METRICS_PORT` is set.
 */
export async function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const { registry } = options.metrics;
  if (options.token) {
    const check = bearerCheck(options.token, () => new MetricsUnauthorizedError());
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
          ...(options.token ? errorResponses(401) : {}),
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
