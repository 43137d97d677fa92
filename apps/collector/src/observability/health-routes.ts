/**
 * `GET /healthz` (the process answers) and `GET /readyz` (this collector can serve its role), answered
 * from the state the readiness monitor keeps (`readiness-monitor.ts`: background probes, never
 * a probe per request), with the same fields every time.
 *
 * Ready (200) when the store takes writes: the ingest path. Postgres is reported, not required, by
 * default: events are accepted while it is down and persisted later, and taking every collector out of
 * the balancer for a Postgres outage would lose them at the clients. `?role=read` (a balancer in front
 * of the dashboard, admin and read routes, which need Postgres) also requires Postgres to answer and
 * the migrations to be applied. Persistence is reported: the lag of the oldest entry not yet
 * persisted (read from the queue, whether or not this collector persists), each partition's owner,
 * lag, and whether it is halted or stuck, every live persister (stalled when it completed no pass for
 * its stall time while owning partitions, as its readers judge it: a frozen one publishes nothing),
 * and the dead letters' count.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorResponses } from '../http/route-schemas.js';
import { type ReadinessOptions, readinessOf } from './readiness.js';

/** Options of {@link healthRoutes}: what the answer is made from, and who sees its details. */
export interface HealthRouteOptions extends ReadinessOptions {
  /**
   * Whether a `/readyz` request sees the details (every field) or the status alone; null: everyone sees
   * them (`READYZ_DETAILS=open`, the default outside production). With `NODE_ENV=production` the details
   * take an operator's token (`ADMIN_TOKEN`, `DASHBOARD_TOKEN` or `METRICS_TOKEN`): they name the
   * persisters, the queue's lag and the dead letters, which are nobody else's business.
   */
  details?: {
    /** Whether the request sent one of the tokens (a wrong one counts as a failed authentication). */
    allowed: (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>;
    /** The security schemes of the tokens configured, for the OpenAPI document. */
    security: Array<Record<string, string[]>>;
  } | null;
}

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

const readiness = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable'] },
    role: { type: 'string', enum: ['ingest', 'read'] },
    store: { type: 'string', enum: ['redis', 'embedded'] },
    storeWritable: { type: 'boolean', description: 'The store took the last probe write.' },
    postgres: { type: 'string', enum: ['up', 'down'] },
    persister: { type: 'string', enum: ['on', 'off'] },
    migrations: { type: 'string', enum: ['applied', 'pending', 'failed'] },
    persistLagMs: { type: 'number', description: 'Age of the oldest queued entry not yet persisted, ms.' },
    deadLetters: {
      type: ['integer', 'null'],
      description: 'Rows in dead_letters (null until Postgres answered a count).',
    },
    haltedPartitions: {
      type: 'array',
      items: { type: 'integer' },
      description: 'Partitions held back past the dead-letter limit (their entries wait, nothing is lost).',
    },
    stuckPartitions: {
      type: 'array',
      items: { type: 'integer' },
      description: 'Partitions whose oldest entry has not moved for a lease time.',
    },
    ownPersister: nullable({
      type: 'object',
      description:
        "This collector's persister (null with PERSISTER=off): its member name, partitions held, and " +
        'whether it is stalled (owns partitions, no pass completed for half a lease time) or in standby ' +
        '(gave its partitions up after a lease time without a commit; it rejoins once Postgres answers).',
      properties: {
        member: { type: 'string' },
        partitions: { type: 'integer' },
        stalled: { type: 'boolean' },
        standby: { type: 'boolean' },
        lastPassAt: { type: ['string', 'null'], format: 'date-time' },
      },
      required: ['member', 'partitions', 'stalled', 'standby', 'lastPassAt'],
      additionalProperties: false,
    }),
    partitions: {
      type: 'array',
      description: 'Each queue partition: its lease holder (null: none), lag, and whether halted or stuck.',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'integer' },
          owner: { type: ['string', 'null'] },
          lagMs: { type: 'number' },
          halted: { type: 'boolean' },
          stuck: { type: 'boolean' },
        },
        required: ['partition', 'owner', 'lagMs', 'halted', 'stuck'],
        additionalProperties: false,
      },
    },
    persisters: {
      type: 'array',
      description: 'Live persisters (heartbeat within three lease times) and what each last published.',
      items: {
        type: 'object',
        properties: {
          member: { type: 'string' },
          partitions: { type: 'integer' },
          lastPassAt: { type: ['string', 'null'], format: 'date-time' },
          stalled: { type: 'boolean' },
          postgresUp: { type: 'boolean' },
        },
        required: ['member', 'partitions', 'lastPassAt', 'stalled', 'postgresUp'],
        additionalProperties: false,
      },
    },
    checkedAt: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'When the background probes last completed a round.',
    },
    error: { type: ['string', 'null'], description: 'Why not ready (null when ready).' },
  },
  required: [
    'status',
    'role',
    'store',
    'storeWritable',
    'postgres',
    'persister',
    'migrations',
    'persistLagMs',
    'deadLetters',
    'haltedPartitions',
    'stuckPartitions',
    'ownPersister',
    'partitions',
    'persisters',
    'checkedAt',
    'error',
  ],
  additionalProperties: false,
} as const;

/** The answer without details: the status alone. */
const brief = {
  type: 'object',
  description:
    'The status alone: the answer to a caller without a token when the details are closed (`READYZ_DETAILS`).',
  properties: { status: readiness.properties.status },
  required: ['status'],
  additionalProperties: false,
} as const;

/** Registers the health routes. */
export async function healthRoutes(app: FastifyInstance, options: HealthRouteOptions): Promise<void> {
  // The same fields every time the details are shown; the status alone otherwise.
  const answer = (description: string) =>
    options.details ? { description, anyOf: [readiness, brief] } : { ...readiness, description };
  app.get(
    '/healthz',
    {
      schema: {
        description: 'The process answers.',
        response: {
          200: {
            type: 'object',
            description: 'Alive.',
            properties: { status: { type: 'string', enum: ['ok'] } },
            required: ['status'],
            additionalProperties: false,
          },
        },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        description:
          'Ready when this collector can serve its role, from the state its background probes keep: ' +
          '`ingest` (default) needs the store to take writes; `read` also needs Postgres and applied ' +
          'migrations. Postgres, persistence and dead letters are reported either way. With ' +
          '`NODE_ENV=production` (unless `READYZ_DETAILS=open`) a caller without an operator token ' +
          '(admin, dashboard or metrics) gets the status alone; a wrong token counts as a failed ' +
          'authentication (429 past the limit).',
        // `{}`: the status is answered to anyone.
        ...(options.details ? { security: [{}, ...options.details.security] } : {}),
        querystring: {
          type: 'object',
          properties: { role: { type: 'string', enum: ['ingest', 'read'], default: 'ingest' } },
          additionalProperties: false,
        },
        response: {
          200: answer('Ready.'),
          503: answer('Not ready (`error` says why).'),
          ...(options.details ? errorResponses(429) : {}),
        },
      },
    },
    async (request, reply) => {
      const { role } = request.query as { role: 'ingest' | 'read' };
      const body = readinessOf(options, role, Date.now());
      reply.code(body.status === 'ready' ? 200 : 503);
      if (options.details && !(await options.details.allowed(request, reply))) return { status: body.status };
      return body;
    },
  );
}
