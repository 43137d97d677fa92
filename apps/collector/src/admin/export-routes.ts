/**
 * `GET /v1/admin/export/pageviews?from=&to=` (bulk export for a warehouse: NDJSON, or CSV with
 * `Accept: text/csv`, constant memory, resumable by cursor; either token; audited) and
 * `GET /v1/admin/audit` (the audit log, admin token only).
 */
import type { Database } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { InvalidQueryError, InvalidStatsRangeError } from '../http/errors.js';
import { readAudit, recordAudit } from '../read/audit-log.js';
import { pageViewExport } from '../read/data-export.js';
import { decodeCursor, parseLimit } from '../read/insight-query.js';
import { parseTrafficScope, trafficQuerySchema } from '../read/traffic-scope.js';
import { parseUtcBound } from '../read/utc-bound.js';
import { streamOf } from './admin-journey-route.js';
import { adminSecurity, errorResponses, readSecurity } from '../http/route-schemas.js';
import { fromDatabase } from './insights-routes.js';

/** Options of {@link exportRoutes}. */
export interface ExportRoutesOptions extends AdminRouteGuards {
  db: Kysely<Database>;
}

/** Longest bulk export range; a larger one is several requests. */
const MAX_EXPORT_DAYS = 366;
const DAY = 86_400_000;

/** Registers the bulk export behind either token (own scope). */
export async function exportRoutes(app: FastifyInstance, options: ExportRoutesOptions): Promise<void> {
  const { db } = options;
  adminGuard(app, options);

  app.get<{ Querystring: { from?: string; to?: string; cursor?: string; traffic?: string } }>(
    '/v1/admin/export/pageviews',
    {
      config: adminRouteConfig(options, 'read'),
      schema: {
        description:
          'Page views with server time in [from, to) in (server time, event id) order: NDJSON, or CSV with ' +
          '`Accept: text/csv`. Every row carries `cursor`; pass the last one received to resume. Up to 366 days.',
        security: readSecurity(options),
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string', maxLength: 40, description: 'ISO-8601 UTC, inclusive' },
            to: { type: 'string', maxLength: 40, description: 'ISO-8601 UTC, exclusive' },
            cursor: { type: 'string', maxLength: 200, description: 'resume after this row' },
            ...trafficQuerySchema,
          },
        },
        response: {
          200: {
            description: 'The page views, one a line (streamed as they are read).',
            content: {
              'application/x-ndjson': { schema: { type: 'string' } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          ...errorResponses(400, ...guardStatuses(options, 'read'), 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { from: rawFrom, to: rawTo } = request.query;
      const from = parseUtcBound(rawFrom);
      const to = parseUtcBound(rawTo);
      if (from === null || to === null) {
        throw new InvalidStatsRangeError(
          'from and to are required, ISO-8601 UTC (e.g. 2026-01-01T00:00:00Z)',
        );
      }
      if (from.getTime() >= to.getTime()) throw new InvalidStatsRangeError('from must be before to');
      if (to.getTime() - from.getTime() > MAX_EXPORT_DAYS * DAY) {
        throw new InvalidStatsRangeError(
          `the range is longer than ${MAX_EXPORT_DAYS} days; export it in parts`,
        );
      }
      const cursor = decodeCursor(request.query.cursor);
      if (cursor && (cursor.at < from || cursor.at >= to)) {
        throw new InvalidQueryError('cursor is outside [from, to)');
      }
      const csv = /\btext\/csv\b/i.test(request.headers.accept ?? '');
      const scope = parseTrafficScope(request.query);
      await fromDatabase(() =>
        recordAudit(db, {
          actor: request.tokenKind!,
          action: 'export-pageviews',
          subject: null,
          detail: {
            from: from.toISOString(),
            to: to.toISOString(),
            resumed: cursor !== null,
            format: csv ? 'csv' : 'ndjson',
            traffic: scope,
          },
        }),
      );
      // A download, never a page: a browser that opens the link saves the file instead of rendering it.
      const name = `pageviews-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}`;
      reply
        .type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.${csv ? 'csv' : 'ndjson'}"`)
        .header('cache-control', 'no-store');
      return reply.send(
        streamOf(pageViewExport(db, from, to, cursor, csv ? 'csv' : 'ndjson', scope), request.log),
      );
    },
  );
}

/** Registers the audit log behind the admin token (own scope). */
export async function auditRoute(app: FastifyInstance, options: ExportRoutesOptions): Promise<void> {
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
