/**
 * `GET /v1/admin/stats?from=&to=` (docs/protocol.md, HTTP API), registered only with
 * `ADMIN_TOKEN`. The definitions are in `read/stats-queries.ts`; bounds are ISO-8601 UTC, `[from, to)`.
 */

import type { Database } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { InvalidStatsRangeError } from '../http/errors.js';
import { fromDatabase } from '../http/from-database.js';
import { adminSecurity, errorResponses } from '../http/route-schemas.js';
import { readStats } from '../read/stats-queries.js';
import { parseTrafficScope, trafficQuerySchema } from '../read/traffic-scope.js';
import { parseUtcBound } from '../read/utc-bound.js';

/** Options of {@link adminStatsRoute}. */
export interface AdminStatsRouteOptions extends AdminRouteGuards {
  db: Kysely<Database>;
}

const nullableNumber = { type: 'number', nullable: true } as const;

/** The figures of sessions started in [from, to). */
const statsSchema = {
  type: 'object',
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    sessionsStarted: { type: 'integer' },
    convertedSessions: { type: 'integer' },
    conversionRate: nullableNumber,
    medianPageViewsBeforeConversion: nullableNumber,
    medianSecondsToConversion: nullableNumber,
    devices: { type: 'integer', description: 'distinct device ids of those sessions' },
    browsers: {
      type: 'integer',
      description: 'those ids resolved through cookie edges and standing fingerprint joins',
    },
    browsersByCookie: { type: 'integer', description: 'resolved through cookie edges alone' },
  },
  required: [
    'from',
    'to',
    'sessionsStarted',
    'convertedSessions',
    'conversionRate',
    'medianPageViewsBeforeConversion',
    'medianSecondsToConversion',
    'devices',
    'browsers',
    'browsersByCookie',
  ],
  additionalProperties: false,
} as const;

/** Registers the stats route behind the admin token (own scope). */
export async function adminStatsRoute(app: FastifyInstance, options: AdminStatsRouteOptions): Promise<void> {
  adminGuard(app, options);

  app.get<{ Querystring: { from?: string; to?: string; traffic?: string } }>(
    '/v1/admin/stats',
    {
      config: adminRouteConfig(options),
      schema: {
        description:
          'Sessions started in [from, to), how many converted, the conversion rate (null when none started), ' +
          'the median page views before conversion and the median seconds from first page view to link.',
        querystring: {
          type: 'object',
          properties: {
            from: {
              type: 'string',
              description: 'ISO-8601 UTC, inclusive (2026-01-01 or 2026-01-01T00:00:00Z)',
            },
            to: { type: 'string', description: 'ISO-8601 UTC, exclusive' },
            ...trafficQuerySchema,
          },
        },
        response: {
          200: statsSchema,
          ...errorResponses(400, ...guardStatuses(options), 429, 503),
        },
        security: adminSecurity,
      },
    },
    async (request) => {
      const scope = parseTrafficScope(request.query);
      const { from, to } = statsWindow(request.query);
      return fromDatabase(() => readStats(options.db, from, to, scope));
    },
  );
}

/** The checked window `[from, to)` of the stats: both bounds required, ISO-8601 UTC, from before to. */
function statsWindow(query: { from?: string; to?: string }): { from: Date; to: Date } {
  const { from: rawFrom, to: rawTo } = query;
  if (rawFrom === undefined || rawTo === undefined) {
    throw new InvalidStatsRangeError('from and to are required (ISO-8601 UTC, e.g. 2026-01-01T00:00:00Z)');
  }
  const from = parseUtcBound(rawFrom);
  const to = parseUtcBound(rawTo);
  for (const [name, raw, value] of [
    ['from', rawFrom, from],
    ['to', rawTo, to],
  ] as const) {
    if (value === null) {
      throw new InvalidStatsRangeError(
        `${name} ${JSON.stringify(String(raw).slice(0, 64))} is not an ISO-8601 UTC date or time (e.g. 2026-01-01T00:00:00Z)`,
      );
    }
  }
  if (from!.getTime() >= to!.getTime()) {
    throw new InvalidStatsRangeError('from must be before to (the window is [from, to))');
  }
  return { from: from!, to: to! };
}
