/**
 * `GET /healthz` (the process answers) and `GET /readyz` (the ingest path works: the store answers).
 * Postgres is reported, not required: events are accepted while it is down and persisted later.
 */
import type { QueueConsumer } from '@devicelink/fastify';
import type { Database, Persister } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { PROBE_TIMEOUT_MS, within } from '../http/promise-deadline.js';

/** Options of {@link healthRoutes}. */
export interface HealthRouteOptions {
  queue: QueueConsumer;
  db: Kysely<Database>;
  persister: Persister | null;
  store: 'redis' | 'embedded';
  /** Where the start-up migrations stand (`pending` while Postgres is unreachable, `failed` when broken). */
  migrations: () => 'applied' | 'pending' | 'failed';
}

const readiness = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable'] },
    store: { type: 'string', enum: ['redis', 'embedded'] },
    postgres: { type: 'string', enum: ['up', 'down'] },
    persister: { type: 'string', enum: ['on', 'off'] },
    migrations: { type: 'string', enum: ['applied', 'pending', 'failed'] },
    persistLagMs: { type: 'number', description: 'Age of the oldest entry not yet persisted, ms.' },
    error: { type: 'string' },
  },
  required: ['status', 'store', 'postgres', 'persister', 'migrations', 'persistLagMs'],
  additionalProperties: false,
} as const;

/** Registers the health routes. */
export async function healthRoutes(app: FastifyInstance, options: HealthRouteOptions): Promise<void> {
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
        description: 'Ready when the ingest path (store) works; Postgres state and persist lag are reported.',
        response: {
          200: { ...readiness, description: 'Ready: the store answers.' },
          503: { ...readiness, description: 'Not ready: the store does not answer (`error` says why).' },
        },
      },
    },
    async (_request, reply) => {
      let storeError: string | null = null;
      try {
        // A depth query is a round trip through the same client the ingest scripts use.
        await within(options.queue.depth(0), PROBE_TIMEOUT_MS);
      } catch (err) {
        storeError = (err as Error).message;
      }
      let postgres: 'up' | 'down' = 'up';
      const status = options.persister?.status();
      if (status && !status.postgresUp) postgres = 'down';
      else {
        try {
          await within(sql`select 1`.execute(options.db), PROBE_TIMEOUT_MS);
        } catch {
          postgres = 'down';
        }
      }
      const body = {
        status: storeError ? 'unavailable' : 'ready',
        store: options.store,
        postgres,
        persister: options.persister ? 'on' : 'off',
        migrations: options.migrations(),
        persistLagMs: status?.lagMs ?? 0,
        ...(storeError ? { error: storeError } : {}),
      };
      reply.code(storeError ? 503 : 200);
      return body;
    },
  );
}
