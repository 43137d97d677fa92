/**
 * `GET /v1/admin/users/:userId` (the user's journey, a page at a time) and
 * `GET /v1/admin/users/:userId/export` (everything stored about the user, one JSON document, audited),
 * behind either token (`ADMIN_TOKEN` or the read-only `DASHBOARD_TOKEN`). Erasure of the user stays `DELETE`
 * with the admin token alone.
 */
import type { Database } from '@devicelink/persister';
import { journeyAnswer } from '@devicelink/protocol/schemas';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { isAcceptedUserId } from '../auth/user-id-rules.js';
import { InvalidUserIdError } from '../http/errors.js';
import { fromDatabase } from '../http/from-database.js';
import { errorResponses, readSecurity } from '../http/route-schemas.js';
import { recordAudit } from '../read/audit-log.js';
import { userExport } from '../read/data-export.js';
import { decodeCursor, parseLimit } from '../read/insight-query.js';
import { parseTrafficScope, trafficQuerySchema } from '../read/traffic-scope.js';
import { userJourney } from '../read/user-journey.js';
import { streamOf } from './export-stream.js';

/** Options of {@link adminJourneyRoutes}. */
export interface AdminJourneyRoutesOptions extends AdminRouteGuards {
  db: Kysely<Database>;
}

const params = {
  type: 'object',
  properties: { userId: { type: 'string', maxLength: 1024 } },
  required: ['userId'],
} as const;

/** Registers the journey and export of a user behind either token (own scope). */
export async function adminJourneyRoutes(
  app: FastifyInstance,
  options: AdminJourneyRoutesOptions,
): Promise<void> {
  adminGuard(app, options);
  const route: UserReadRoute = {
    db: options.db,
    config: adminRouteConfig(options, 'read'),
    security: readSecurity(options),
    // 400: an id the collector never accepts, a bad cursor or limit; 414: an id longer than the router takes.
    errors: errorResponses(400, ...guardStatuses(options, 'read'), 414, 429, 503),
  };
  journeyRoute(app, route);
  userExportRoute(app, route);
}

/** What the two routes of a user share: the database, the token guard's config, security and errors. */
interface UserReadRoute {
  db: Kysely<Database>;
  config: ReturnType<typeof adminRouteConfig>;
  security: ReturnType<typeof readSecurity>;
  errors: ReturnType<typeof errorResponses>;
}

/** `GET /v1/admin/users/:userId`: the user's journey, a page at a time. */
function journeyRoute(app: FastifyInstance, { db, config, security, errors }: UserReadRoute): void {
  app.get<{ Params: { userId: string }; Querystring: { cursor?: string; limit?: number; traffic?: string } }>(
    '/v1/admin/users/:userId',
    {
      config,
      schema: {
        description:
          'The user’s journey in time order: the anonymous page views of the sessions converted to the user ' +
          '(before each login) and the signed-in ones, per device. Never another user’s sessions on a shared ' +
          'device. The first page also lists the converted sessions and the links. Paginated by `cursor`.',
        security,
        params,
        querystring: {
          type: 'object',
          properties: {
            cursor: { type: 'string', maxLength: 200, description: 'nextCursor of the previous page' },
            ...trafficQuerySchema,
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: 500,
              description: 'page views per page (default 100)',
            },
          },
        },
        response: {
          200: journeyAnswer,
          ...errors,
        },
      },
    },
    async (request) => {
      const { userId } = request.params;
      if (!isAcceptedUserId(userId)) throw new InvalidUserIdError();
      const cursor = decodeCursor(request.query.cursor);
      const limit = parseLimit(request.query.limit, 100, 500);
      const scope = parseTrafficScope(request.query);
      return fromDatabase(() => userJourney(db, userId, cursor, limit, scope));
    },
  );
}

/** `GET /v1/admin/users/:userId/export`: everything stored about the user, audited. */
function userExportRoute(app: FastifyInstance, { db, config, security, errors }: UserReadRoute): void {
  app.get<{ Params: { userId: string } }>(
    '/v1/admin/users/:userId/export',
    {
      config,
      schema: {
        description:
          'Everything stored about the user (a data-subject request) as one JSON document: links, devices linked ' +
          'by login, converted sessions and their page views, signed-in page views. Fingerprint joins and ' +
          'aliases are not followed. Recorded in the audit log.',
        security,
        params,
        response: {
          200: {
            description: 'The export, one JSON document (streamed as it is read).',
            content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      if (!isAcceptedUserId(userId)) throw new InvalidUserIdError();
      await fromDatabase(() =>
        recordAudit(db, { actor: request.tokenKind!, action: 'export-user', subject: userId }),
      );
      reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', 'attachment; filename="user-export.json"')
        .header('cache-control', 'no-store');
      return reply.send(streamOf(userExport(db, userId), request.log));
    },
  );
}
