/**
 * The insights read from the tables themselves, not the roll-ups: what the figures left out (stored
 * traffic classes) and identity quality (a revoked join changes it without a rewrite).
 */
import { excludedAnswer, identityAnswer } from '@devicelink/protocol/schemas';
import type { FastifyInstance } from 'fastify';
import { fromDatabase } from '../http/from-database.js';
import { excludedTraffic } from '../read/excluded-traffic.js';
import type { IdentitySource } from '../read/identity-figures.js';
import { MAX_FIGURES_DAYS, parseHourRange, parseLimit, rangeQuerySchema } from '../read/insight-query.js';
import { parseTrafficScope, trafficQuerySchema } from '../read/traffic-scope.js';
import { type InsightsRoute, limitSchema } from './insights-schemas.js';

/** `GET /v1/admin/insights/excluded`. */
export function excludedRoute(
  app: FastifyInstance,
  { db, config, security, queryErrors }: InsightsRoute,
): void {
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
}

/** `GET /v1/admin/insights/identity`. */
export function identityRoute(
  app: FastifyInstance,
  { db, config, security, errors }: InsightsRoute,
  identity: IdentitySource,
): void {
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
      return fromDatabase(() => identity.figures(db, scope));
    },
  );
}
