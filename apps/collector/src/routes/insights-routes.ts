/**
 * The read routes behind the dashboard (apps/collector/README.md, Dashboard and read API), registered when
 * `ADMIN_TOKEN` or `DASHBOARD_TOKEN` is set (either token reads; rate-limited like the admin routes): time
 * series, conversion figures and histograms, paths before login, top pages and referrers, identity quality.
 * Every figure but identity comes from the hourly roll-ups.
 */
import type { Database } from '@devicelink/persister';
import {
  conversionAnswer,
  excludedAnswer,
  identityAnswer,
  pathsAnswer,
  timeSeriesAnswer,
  topAnswer,
} from '@devicelink/protocol/schemas';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { databaseUnavailable } from '../http/errors.js';
import { excludedTraffic } from '../read/excluded-traffic.js';
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
import { errorResponses, readSecurity } from './error-schema.js';

/** Options of {@link insightsRoutes}. */
export interface InsightsRoutesOptions extends AdminRouteGuards {
  db: Kysely<Database>;
  identity: IdentitySource;
}

const limitSchema = { type: 'integer', minimum: 1, maximum: 100, description: 'rows per list (default 10)' };

/** Runs a read; a database failure is a 503 (the collector's own 4xx errors pass through). */
export async function fromDatabase<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (String((err as { code?: unknown }).code).startsWith('DL_')) throw err;
    throw databaseUnavailable(err);
  }
}

/** Registers the read routes behind either token (own scope). */
export async function insightsRoutes(app: FastifyInstance, options: InsightsRoutesOptions): Promise<void> {
  const { db } = options;
  adminGuard(app, options);
  const checkTimeZone = timeZoneChecker(db);
  const config = adminRouteConfig(options, 'read');
  const security = readSecurity(options);
  // What every read route may answer besides 200; the ones with a query add 400.
  const errors = errorResponses(...guardStatuses(options, 'read'), 429, 503);
  const queryErrors = { ...errorResponses(400), ...errors };

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

  app.get<{ Querystring: { from?: string; to?: string; limit?: number } }>(
    '/v1/admin/insights/excluded',
    {
      config,
      schema: {
        description:
          'What the figures left out: sessions started in the range whose stored traffic class is not human ' +
          '(bot, automation, fleet), by class with their page views, and the top user agents. Up to 400 days.',
        security,
        querystring: { type: 'object', properties: { ...rangeQuerySchema, limit: limitSchema } },
        response: {
          200: excludedAnswer,
          ...queryErrors,
        },
      },
    },
    async (request) => {
      const range = parseHourRange(request.query, MAX_FIGURES_DAYS);
      const limit = parseLimit(request.query.limit, 10, 100);
      return fromDatabase(() => excludedTraffic(db, range, limit));
    },
  );

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

  app.get<{ Querystring: { traffic?: string } }>(
    '/v1/admin/insights/identity',
    {
      config,
      schema: {
        description:
          'Identity quality now: devices, users, devices per user, cookie and yield edges (cookieEdges), fingerprint joins standing and ' +
          'revoked, shared fingerprints and devices with server-made ids only. Null: not measured yet. People only unless ' +
          'traffic=all: a device whose every session is non-human is left out with its links, edges and revocations.',
        security,
        querystring: { type: 'object', properties: { ...trafficQuerySchema } },
        response: {
          200: identityAnswer,
          ...errors,
        },
      },
    },
    async (request) => {
      const scope = parseTrafficScope(request.query);
      return fromDatabase(() => options.identity.figures(db, scope));
    },
  );
}
