/**
 * `GET /v1/admin/export/pageviews?from=&to=`: the bulk export for a warehouse (NDJSON, or CSV with
 * `Accept: text/csv`), constant memory, resumable by cursor; either token; audited.
 */
import type { Database } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { InvalidQueryError, InvalidStatsRangeError } from '../http/errors.js';
import { fromDatabase } from '../http/from-database.js';
import { errorResponses, readSecurity } from '../http/route-schemas.js';
import { recordAudit } from '../read/audit-log.js';
import { pageViewExport } from '../read/data-export.js';
import { type Cursor, decodeCursor } from '../read/insight-query.js';
import { parseTrafficScope, trafficQuerySchema } from '../read/traffic-scope.js';
import { parseUtcBound } from '../read/utc-bound.js';
import { streamOf } from './export-stream.js';

/** Options of {@link pageViewExportRoute}. */
export interface ExportRoutesOptions extends AdminRouteGuards {
  db: Kysely<Database>;
}

/** Longest bulk export range; a larger one is several requests. */
const MAX_EXPORT_DAYS = 366;
const DAY = 86_400_000;

/** Registers the bulk export behind either token (own scope). */
export async function pageViewExportRoute(app: FastifyInstance, options: ExportRoutesOptions): Promise<void> {
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
      const { from, to, cursor } = exportRange(request.query);
      const csv = /\btext\/csv\b/i.test(request.headers.accept ?? '');
      const scope = parseTrafficScope(request.query);
      const detail = { from: from.toISOString(), to: to.toISOString(), resumed: cursor !== null };
      await fromDatabase(() =>
        recordAudit(db, {
          actor: request.tokenKind!,
          action: 'export-pageviews',
          subject: null,
          detail: { ...detail, format: csv ? 'csv' : 'ndjson', traffic: scope },
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

/** The checked `[from, to)` of an export (at most 366 days) and the cursor to resume after, inside it. */
function exportRange(query: { from?: string; to?: string; cursor?: string }): {
  from: Date;
  to: Date;
  cursor: Cursor | null;
} {
  const from = parseUtcBound(query.from);
  const to = parseUtcBound(query.to);
  if (from === null || to === null) {
    throw new InvalidStatsRangeError('from and to are required, ISO-8601 UTC (e.g. 2026-01-01T00:00:00Z)');
  }
  if (from.getTime() >= to.getTime()) throw new InvalidStatsRangeError('from must be before to');
  if (to.getTime() - from.getTime() > MAX_EXPORT_DAYS * DAY) {
    throw new InvalidStatsRangeError(`the range is longer than ${MAX_EXPORT_DAYS} days; export it in parts`);
  }
  const cursor = decodeCursor(query.cursor);
  if (cursor && (cursor.at < from || cursor.at >= to)) {
    throw new InvalidQueryError('cursor is outside [from, to)');
  }
  return { from, to, cursor };
}
