/** Schema parts the insights routes' answers share: counts, rates, histograms and keyed rows. */
import { ROLLUP_OTHER_KEY } from '@devicelink/persister';

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
