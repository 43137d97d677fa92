/**
 * `GET /v1/admin/devices/:deviceId` and `DELETE /v1/admin/devices/:deviceId`, registered only with
 * `ADMIN_TOKEN` (else they do not exist: 404). The detail reads Postgres, the source of every report;
 * the live session from the store is a hint.
 */
import type { DeviceAdmin, LiveSession } from '@devicelink/fastify';
import type { Database } from '@devicelink/persister';
import { isValidDeviceId } from '@devicelink/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { type AccessTokens, readOrAdminGuard } from '../auth/admin-auth.js';
import { DatabaseUnavailableError, InvalidDeviceIdError, StoreUnavailableError } from '../http/errors.js';
import { recordAudit } from '../insights/audit-log.js';
import { errorSchema } from './error-schema.js';

/** Options of {@link adminDeviceRoutes}. */
export interface AdminRouteOptions extends AccessTokens {
  db: Kysely<Database>;
  /** The live-session read and erasure. */
  store: DeviceAdmin;
}

const params = {
  type: 'object',
  properties: { deviceId: { type: 'string', maxLength: 256 } },
  required: ['deviceId'],
} as const;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Registers the admin device routes behind the admin token (own scope: the guard applies to them alone). */
export async function adminDeviceRoutes(app: FastifyInstance, options: AdminRouteOptions): Promise<void> {
  const { db } = options;
  // The detail takes either token; the erasure only the admin token.
  app.addHook('onRequest', readOrAdminGuard(options));

  app.get<{ Params: { deviceId: string } }>(
    '/v1/admin/devices/:deviceId',
    {
      schema: {
        description:
          'Live session, persisted sessions and page-view count, identity links and aliases of a device.',
        params,
        response: { '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (request) => {
      const { deviceId } = request.params;
      if (!isValidDeviceId(deviceId)) throw new InvalidDeviceIdError();
      let live: LiveSession | null = null;
      let liveError: string | null = null;
      try {
        live = await options.store.session(deviceId);
      } catch (err) {
        liveError = (err as Error).message;
      }
      try {
        const [device, sessions, pageViews, links, aliases] = await Promise.all([
          db.selectFrom('devices').selectAll().where('device_id', '=', deviceId).executeTakeFirst(),
          db
            .selectFrom('sessions')
            .selectAll()
            .where('device_id', '=', deviceId)
            .orderBy('first_seen')
            .execute(),
          db
            .selectFrom('page_views')
            .select(sql<number>`count(*)::int`.as('n'))
            .where('device_id', '=', deviceId)
            .executeTakeFirstOrThrow(),
          db
            .selectFrom('identity_links')
            .selectAll()
            .where('device_id', '=', deviceId)
            .orderBy('linked_at')
            .execute(),
          db
            .selectFrom('device_aliases')
            .selectAll()
            .where((eb) => eb.or([eb('device_id', '=', deviceId), eb('alias_id', '=', deviceId)]))
            .orderBy('first_seen')
            .execute(),
        ]);
        return {
          deviceId,
          liveSession: live,
          ...(liveError ? { liveSessionError: liveError } : {}),
          persisted: {
            firstSeen: iso(device?.first_seen ?? null),
            lastSeen: iso(device?.last_seen ?? null),
            pageViews: Number(pageViews.n),
            sessions: sessions.map((s) => ({
              id: s.id,
              source: s.source,
              visitorHash: s.visitor_hash,
              firstSeen: iso(s.first_seen),
              lastSeen: iso(s.last_seen),
              pageViews: s.page_views,
              userAgent: s.user_agent,
              convertedUserId: s.converted_user_id,
              convertedAt: iso(s.converted_at),
              linkId: s.link_id,
            })),
          },
          links: links.map((l) => ({ id: l.id, userId: l.user_id, linkedAt: iso(l.linked_at) })),
          aliases: aliases.map((a) => ({
            deviceId: a.device_id,
            aliasId: a.alias_id,
            firstSeen: iso(a.first_seen),
          })),
        };
      } catch (err) {
        throw new DatabaseUnavailableError((err as Error).message);
      }
    },
  );

  app.delete<{ Params: { deviceId: string } }>(
    '/v1/admin/devices/:deviceId',
    {
      schema: {
        description: 'Erases the device everywhere (through its queue partition); 204.',
        params,
        response: { '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { deviceId } = request.params;
      if (!isValidDeviceId(deviceId)) throw new InvalidDeviceIdError();
      try {
        await options.store.erase(deviceId);
      } catch (err) {
        request.log.error({ err }, 'erasure failed');
        throw new StoreUnavailableError();
      }
      await auditErasure(options.db, request, 'erase-device', deviceId);
      reply.code(204).send();
    },
  );
}

/**
 * Records an erasure in the audit log. The erasure is queued already and is never undone for want of a
 * record: a failed write is logged at error level instead.
 */
export async function auditErasure(
  db: Kysely<Database>,
  request: FastifyRequest,
  action: 'erase-device' | 'erase-user',
  subject: string,
): Promise<void> {
  try {
    await recordAudit(db, { actor: request.tokenKind ?? 'admin', action, subject });
  } catch (err) {
    request.log.error({ err }, 'audit log write failed');
  }
}
