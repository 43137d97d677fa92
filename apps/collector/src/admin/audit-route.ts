/** `GET /v1/admin/audit`: the audit log (exports and erasures), newest first, admin token only. */
import type { Database } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { fromDatabase } from '../http/from-database.js';
import { adminSecurity, errorResponses } from '../http/route-schemas.js';
import { readAudit } from '../read/audit-log.js';
import { parseLimit } from '../read/insight-query.js';

/** Options of {@link auditRoute}. */
export interface AuditRouteOptions extends AdminRouteGuards {
  db: Kysely<Database>;
}

/** Registers the audit log behind the admin token (own scope). */
export async function auditRoute(app: FastifyInstance, options: AuditRouteOptions): Promise<void> {
  adminGuard(app, options);
  app.get<{ Querystring: { cursor?: string; limit?: number } }>(
    '/v1/admin/audit',
    {
      config: adminRouteConfig(options),
      schema: {
        description:
          'Exports and erasures, newest first: which token kind did what to which subject, and when.',
        security: adminSecurity,
        querystring: {
          type: 'object',
          properties: {
            cursor: {
              type: 'string',
              pattern: '^[0-9]{1,19}$',
              description: 'nextCursor of the previous page',
            },
            limit: { type: 'integer', minimum: 1, maximum: 500 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              entries: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    at: { type: 'string' },
                    actor: { type: 'string' },
                    action: { type: 'string' },
                    subject: { type: ['string', 'null'] },
                    detail: { type: ['object', 'null'], additionalProperties: true },
                  },
                },
              },
              nextCursor: { type: ['string', 'null'] },
            },
          },
          ...errorResponses(400, ...guardStatuses(options), 429, 503),
        },
      },
    },
    async (request) => {
      const limit = parseLimit(request.query.limit, 100, 500);
      return fromDatabase(() => readAudit(options.db, request.query.cursor ?? null, limit));
    },
  );
}
