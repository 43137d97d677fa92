/**
 * `GET /healthz` (the process answers) and `GET /readyz` (the ingest path works: the store answers).
 * Postgres is reported, not required: events are accepted while it is down and persisted later. So is
 * persistence: each partition's owner and lag, and every live persister with what it last published
 * (a persister owning partitions that completed no pass for half a lease time is `stalled`).
 */
import type { PartitionLeases, QueueConsumer } from '@devicelink/fastify';
import type { Database, Persister } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { PROBE_TIMEOUT_MS, within } from '../http/promise-deadline.js';

/** Options of {@link healthRoutes}. */
export interface HealthRouteOptions {
  queue: QueueConsumer & PartitionLeases;
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
    ownPersister: {
      type: 'object',
      description:
        "This collector's persister: its member name, partitions held, and whether it is stalled " +
        '(owns partitions, no pass completed for half a lease time) or in standby (gave its ' +
        'partitions up after a lease time without a commit; it rejoins once Postgres answers).',
      properties: {
        member: { type: 'string' },
        partitions: { type: 'integer' },
        stalled: { type: 'boolean' },
        standby: { type: 'boolean' },
        lastPassAt: { type: ['string', 'null'], format: 'date-time' },
      },
      required: ['member', 'partitions', 'stalled', 'standby', 'lastPassAt'],
      additionalProperties: false,
    },
    partitions: {
      type: 'array',
      description: 'Each queue partition: the persister holding its lease (null: none) and its lag.',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'integer' },
          owner: { type: ['string', 'null'] },
          lagMs: { type: 'number' },
        },
        required: ['partition', 'owner', 'lagMs'],
        additionalProperties: false,
      },
    },
    persisters: {
      type: 'array',
      description: 'Live persisters (heartbeat within the lease time) and what each last published.',
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
      const status = options.persister?.status();
      // Both probes at once: the answer comes within one probe timeout whatever hangs.
      const [storeError, postgres] = await Promise.all([
        // A depth query is a round trip through the same client the ingest scripts use.
        within(options.queue.depth(0), PROBE_TIMEOUT_MS).then(
          () => null,
          (err: unknown) => (err as Error).message,
        ),
        status && !status.postgresUp
          ? ('down' as const)
          : within(sql`select 1`.execute(options.db), PROBE_TIMEOUT_MS).then(
              () => 'up' as const,
              () => 'down' as const,
            ),
      ]);
      const persistence = storeError
        ? null
        : await within(persistenceOf(options.queue), PROBE_TIMEOUT_MS).catch(() => null);
      const body = {
        status: storeError ? 'unavailable' : 'ready',
        store: options.store,
        postgres,
        persister: options.persister ? 'on' : 'off',
        migrations: options.migrations(),
        persistLagMs: status?.lagMs ?? 0,
        ...(status
          ? {
              ownPersister: {
                member: status.member,
                partitions: status.partitions.length,
                stalled: status.stalled,
                standby: status.standby,
                lastPassAt: status.lastPassAt === null ? null : new Date(status.lastPassAt).toISOString(),
              },
            }
          : {}),
        ...(persistence ?? {}),
        ...(storeError ? { error: storeError } : {}),
      };
      reply.code(storeError ? 503 : 200);
      return body;
    },
  );
}

/** What a persister publishes with its heartbeat (see `@devicelink/persister`). */
interface PublishedInfo {
  partitions?: number;
  lastPassAt?: number | null;
  stalled?: boolean;
  postgresUp?: boolean;
}

/** Every partition's owner and lag, and every live persister, read from the store. */
export async function persistenceOf(store: QueueConsumer & PartitionLeases) {
  const now = Date.now();
  const [owners, oldest, members] = await Promise.all([
    store.leaseOwners(),
    Promise.all(Array.from({ length: store.partitions }, (_, p) => store.oldest(p))),
    store.members(),
  ]);
  return {
    partitions: owners.map((owner, partition) => {
      const ts = oldest[partition];
      return { partition, owner, lagMs: ts == null ? 0 : Math.max(0, now - ts) };
    }),
    persisters: members.map(({ member, info }) => {
      let published: PublishedInfo = {};
      try {
        published = JSON.parse(info) as PublishedInfo;
      } catch {
        // Another version's format: the member is listed without details.
      }
      return {
        member,
        partitions: published.partitions ?? 0,
        lastPassAt: published.lastPassAt ? new Date(published.lastPassAt).toISOString() : null,
        stalled: published.stalled === true,
        postgresUp: published.postgresUp !== false,
      };
    }),
  };
}
