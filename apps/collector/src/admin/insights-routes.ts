/**
 * The read routes behind the dashboard (apps/collector/README.md, Dashboard and read API), registered when
 * `ADMIN_TOKEN` or `DASHBOARD_TOKEN` is set (either token reads; rate-limited like the admin routes): time
 * series, conversion figures and histograms, paths before login, top pages and referrers, identity quality.
 * Every figure but identity comes from the hourly roll-ups.
 */
import type { Database } from '@devicelink/persister';
import { conversionAnswer, pathsAnswer, timeSeriesAnswer, topAnswer } from '@devicelink/protocol/schemas';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { fromDatabase } from '../http/from-database.js';
import { errorResponses, readSecurity } from '../http/route-schemas.js';
import type { IdentitySource } from '../read/identity-figures.js';
import {
  type Bucket,
  MAX_FIGURES_DAYS,
  MAX_RANGE_DAYS,
  parseHourRange,
  parseLimit,
  rangeQuerySchema,
  timeZoneChecker,
} from '../read/insight-query.js';
import { conversionFigures, pathsBeforeLogin, timeSeries, topPages } from '../read/rollup-queries.js';
import { parseTrafficScope, trafficQuerySchema } from '../read/traffic-scope.js';
import { type InsightsRoute, limitSchema } from './insights-schemas.js';
import { excludedRoute, identityRoute } from './insights-table-routes.js';

/** Options of {@link insightsRoutes}. */
export interface InsightsRoutesOptions extends AdminRouteGuards {
  db: Kysely<Database>;
  identity: IdentitySource;
}

/** Registers the read routes behind either token (own scope). */
export async function insightsRoutes(app: FastifyInstance, options: InsightsRoutesOptions): Promise<void> {
  adminGuard(app, options);
  const errors = errorResponses(...guardStatuses(options, 'read'), 429, 503);
  const route: InsightsRoute = {
    db: options.db,
    config: adminRouteConfig(options, 'read'),
    security: readSecurity(options),
    // What every read route may answer besides 200; the ones with a query add 400.
    errors,
    queryErrors: { ...errorResponses(400), ...errors },
  };
  timeSeriesRoute(app, route, timeZoneChecker(options.db));
  conversionRoute(app, route);
  pathsRoute(app, route);
  excludedRoute(app, route);
  topRoute(app, route);
  identityRoute(app, route, options.identity);
}

/** `GET /v1/admin/insights/timeseries`. */
function timeSeriesRoute(
  app: FastifyInstance,
  { db, config, security, queryErrors }: InsightsRoute,
  checkTimeZone: (tz: string | undefined) => Promise<string>,
): void {
  app.get<{ Querystring: { from?: string; to?: string; traffic?: string; bucket?: Bucket; tz?: string } }>(
    '/v1/admin/insights/timeseries',
    {
      config,
      schema: {
        description:
          'Page views (anonymous and signed-in), sessions started and converted, and the conversion rate per ' +
          'bucket of the time zone’s wall clock. Ranges: hour buckets up to 31 days, day up to 400, week up to 1,100.',
        security,
        querystring: {
          type: 'object',
          properties: {
            ...rangeQuerySchema,
            ...trafficQuerySchema,
            bucket: { type: 'string', enum: ['hour', 'day', 'week'], default: 'day' },
            tz: { type: 'string', maxLength: 64, description: 'IANA time zone (default UTC)' },
          },
        },
        response: {
          200: timeSeriesAnswer,
          ...queryErrors,
        },
      },
    },
    async (request) => {
      const bucket = request.query.bucket ?? 'day';
      const range = parseHourRange(request.query, MAX_RANGE_DAYS[bucket]);
      const tz = await fromDatabase(() => checkTimeZone(request.query.tz));
      const scope = parseTrafficScope(request.query);
      const points = await fromDatabase(() => timeSeries(db, range, bucket, tz, scope));
      return { from: range.from.toISOString(), to: range.to.toISOString(), bucket, tz, points };
    },
  );
}

/** `GET /v1/admin/insights/conversion`. */
function conversionRoute(app: FastifyInstance, { db, config, security, queryErrors }: InsightsRoute): void {
  app.get<{ Querystring: { from?: string; to?: string; traffic?: string } }>(
    '/v1/admin/insights/conversion',
    {
      config,
      schema: {
        description:
          'Sessions started in the range, how many converted, the rate, and histograms (fixed bins) of the ' +
          'seconds to convert and of the page views before conversion. Range up to 400 days.',
        security,
        querystring: { type: 'object', properties: { ...rangeQuerySchema, ...trafficQuerySchema } },
        response: {
          200: conversionAnswer,
          ...queryErrors,
        },
      },
    },
    async (request) => {
      const range = parseHourRange(request.query, MAX_FIGURES_DAYS);
      return fromDatabase(() => conversionFigures(db, range, parseTrafficScope(request.query)));
    },
  );
}

/** `GET /v1/admin/insights/paths`. */
function pathsRoute(app: FastifyInstance, { db, config, security, queryErrors }: InsightsRoute): void {
  app.get<{ Querystring: { from?: string; to?: string; limit?: number; traffic?: string } }>(
    '/v1/admin/insights/paths',
    {
      config,
      schema: {
        description:
          'The paths before login: entry pages and entry referrer origins of the sessions started in the ' +
          'range, converted ones against all. Range up to 400 days.',
        security,
        querystring: {
          type: 'object',
          properties: { ...rangeQuerySchema, ...trafficQuerySchema, limit: limitSchema },
        },
        response: {
          200: pathsAnswer,
          ...queryErrors,
        },
      },
    },
    async (request) => {
      const range = parseHourRange(request.query, MAX_FIGURES_DAYS);
      const limit = parseLimit(request.query.limit, 10, 100);
      return fromDatabase(() => pathsBeforeLogin(db, range, limit, parseTrafficScope(request.query)));
    },
  );
}

/** `GET /v1/admin/insights/top`. */
function topRoute(app: FastifyInstance, { db, config, security, queryErrors }: InsightsRoute): void {
  app.get<{ Querystring: { from?: string; to?: string; limit?: number; traffic?: string } }>(
    '/v1/admin/insights/top',
    {
      config,
      schema: {
        description:
          'The most viewed pages (URL without query) and referrer origins ("" for none) in the range. Up to 400 days.',
        security,
        querystring: {
          type: 'object',
          properties: { ...rangeQuerySchema, ...trafficQuerySchema, limit: limitSchema },
        },
        response: {
          200: topAnswer,
          ...queryErrors,
        },
      },
    },
    async (request) => {
      const range = parseHourRange(request.query, MAX_FIGURES_DAYS);
      const limit = parseLimit(request.query.limit, 10, 100);
      return fromDatabase(() => topPages(db, range, limit, parseTrafficScope(request.query)));
    },
  );
}
