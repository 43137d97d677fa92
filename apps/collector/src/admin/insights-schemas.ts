/**
 * What the insights routes share: their context (database, guard config, security, error answers) and
 * the schema parts of their answers (counts, rates, histograms, keyed rows).
 */
import { type Database, ROLLUP_OTHER_KEY } from '@devicelink/persister';
import type { Kysely } from 'kysely';
import type { adminRouteConfig } from '../auth/admin-auth.js';
import type { errorResponses, readSecurity } from '../http/route-schemas.js';

export const count = { type: 'integer' } as const;
export const nullableRate = { type: ['number', 'null'] } as const;
export const histogram = {
  type: 'array',
  items: {
    type: 'object',
    properties: { lower: { type: 'number' }, upper: { type: ['number', 'null'] }, count },
    required: ['lower', 'upper', 'count'],
  },
} as const;
/** What a roll-up key is, `(other)` included (docs/deploy.md, Limits). */
const OTHER_KEY_DESCRIPTION =
  `A page (URL without query), a referrer origin ("" for none), or "${ROLLUP_OTHER_KEY}": the pages or ` +
  'origins past the most viewed ROLLUP_KEYS_PER_HOUR (100) of a past hour, counted together.';
export const entryRows = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      key: { type: 'string', description: OTHER_KEY_DESCRIPTION },
      convertedSessions: count,
      sessions: count,
      conversionRate: nullableRate,
    },
    required: ['key', 'convertedSessions', 'sessions', 'conversionRate'],
  },
} as const;
export const topRows = {
  type: 'array',
  items: {
    type: 'object',
    properties: { key: { type: 'string', description: OTHER_KEY_DESCRIPTION }, pageViews: count },
    required: ['key', 'pageViews'],
  },
} as const;
export const limitSchema = {
  type: 'integer',
  minimum: 1,
  maximum: 100,
  description: 'rows per list (default 10)',
};

/** What the insights routes share: the database, the token guard's config, security and errors. */
export interface InsightsRoute {
  db: Kysely<Database>;
  config: ReturnType<typeof adminRouteConfig>;
  security: ReturnType<typeof readSecurity>;
  errors: ReturnType<typeof errorResponses>;
  queryErrors: ReturnType<typeof errorResponses>;
}
