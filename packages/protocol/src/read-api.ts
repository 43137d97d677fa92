/**
 * The answers of the collector's read API (apps/collector/README.md, Dashboard and read API) as JSON
 * schemas, and their types derived from them: the collector serializes and documents each answer with
 * its schema, the dashboard reads it with its type, so the two cannot drift apart. Data only: the
 * types come from json-schema-to-ts at compile time and nothing here runs. Every object is closed
 * (`additionalProperties: false`): the serializer writes the listed properties only, and the derived
 * types then have no index signature.
 */
import type { FromSchema } from 'json-schema-to-ts';

const count = { type: 'integer' } as const;
const nullableRate = { type: ['number', 'null'] } as const;
const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: 'string', format: 'date-time', nullable: true } as const;
const nullableString = { type: 'string', nullable: true } as const;

const histogram = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: { lower: { type: 'number' }, upper: { type: ['number', 'null'] }, count },
    required: ['lower', 'upper', 'count'],
  },
} as const;

/** What a roll-up key is; `(other)` is the persister's ROLLUP_OTHER_KEY (docs/deploy.md, Limits). */
const ROLLUP_KEY_DESCRIPTION =
  'A page (URL without query), a referrer origin ("" for none), or "(other)": the pages or ' +
  'origins past the most viewed ROLLUP_KEYS_PER_HOUR (100) of a past hour, counted together.';

const entryRows = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: {
      key: { type: 'string', description: ROLLUP_KEY_DESCRIPTION },
      convertedSessions: count,
      sessions: count,
      conversionRate: nullableRate,
    },
    required: ['key', 'convertedSessions', 'sessions', 'conversionRate'],
  },
} as const;

const topRows = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: { key: { type: 'string', description: ROLLUP_KEY_DESCRIPTION }, pageViews: count },
    required: ['key', 'pageViews'],
  },
} as const;

/** `GET /v1/admin/insights/timeseries`. */
export const timeSeriesAnswer = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string' },
    to: { type: 'string' },
    bucket: { type: 'string' },
    tz: { type: 'string' },
    points: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          start: { type: 'string' },
          local: { type: 'string' },
          pageViewsAnonymous: count,
          pageViewsSignedIn: count,
          sessions: count,
          convertedSessions: count,
          conversionRate: nullableRate,
        },
        required: [
          'start',
          'local',
          'pageViewsAnonymous',
          'pageViewsSignedIn',
          'sessions',
          'convertedSessions',
          'conversionRate',
        ],
      },
    },
  },
  required: ['from', 'to', 'bucket', 'tz', 'points'],
} as const;

/** `GET /v1/admin/insights/conversion`. */
export const conversionAnswer = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sessionsStarted: count,
    convertedSessions: count,
    conversionRate: nullableRate,
    timeToConvert: histogram,
    viewsBeforeConversion: histogram,
  },
  required: [
    'sessionsStarted',
    'convertedSessions',
    'conversionRate',
    'timeToConvert',
    'viewsBeforeConversion',
  ],
} as const;

/** `GET /v1/admin/insights/paths`. */
export const pathsAnswer = {
  type: 'object',
  additionalProperties: false,
  properties: { entryPages: entryRows, entryReferrers: entryRows },
  required: ['entryPages', 'entryReferrers'],
} as const;

/** `GET /v1/admin/insights/top`. */
export const topAnswer = {
  type: 'object',
  additionalProperties: false,
  properties: { pages: topRows, referrers: topRows },
  required: ['pages', 'referrers'],
} as const;

/** `GET /v1/admin/insights/excluded`. */
export const excludedAnswer = {
  type: 'object',
  additionalProperties: false,
  properties: {
    byClass: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { trafficClass: { type: 'string' }, sessions: count, pageViews: count },
        required: ['trafficClass', 'sessions', 'pageViews'],
      },
    },
    topUserAgents: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          userAgent: { type: ['string', 'null'] },
          trafficClass: { type: 'string' },
          reason: { type: ['string', 'null'] },
          sessions: count,
        },
        required: ['userAgent', 'trafficClass', 'reason', 'sessions'],
      },
    },
  },
  required: ['byClass', 'topUserAgents'],
} as const;

/** `GET /v1/admin/insights/identity`. */
export const identityAnswer = {
  type: 'object',
  additionalProperties: false,
  properties: {
    devices: count,
    users: count,
    devicesPerUser: histogram,
    cookieEdges: count,
    fingerprintJoins: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { standing: count, revoked: count },
      required: ['standing', 'revoked'],
    },
    sharedFingerprints: { type: ['integer', 'null'] },
    serverMadeIds: count,
    edgeSource: { type: 'string' },
  },
  required: [
    'devices',
    'users',
    'devicesPerUser',
    'cookieEdges',
    'fingerprintJoins',
    'sharedFingerprints',
    'serverMadeIds',
    'edgeSource',
  ],
} as const;

const journeyStep = {
  type: 'object',
  additionalProperties: false,
  properties: {
    eventId: { type: 'string' },
    at: { type: 'string' },
    url: { type: 'string' },
    referrer: { type: ['string', 'null'] },
    deviceId: { type: ['string', 'null'] },
    sessionId: { type: ['string', 'null'] },
    signedIn: { type: 'boolean' },
  },
  required: ['eventId', 'at', 'url', 'referrer', 'deviceId', 'sessionId', 'signedIn'],
} as const;

/** `GET /v1/admin/users/:userId`: a page of the journey; `sessions` and `links` on the first page only. */
export const journeyAnswer = {
  type: 'object',
  additionalProperties: false,
  properties: {
    userId: { type: 'string' },
    sessions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          sessionId: { type: 'string' },
          deviceId: { type: 'string' },
          firstSeen: { type: 'string' },
          lastSeen: { type: 'string' },
          pageViews: { type: 'integer' },
          convertedAt: { type: ['string', 'null'] },
          inferred: { type: 'boolean' },
        },
        required: ['sessionId', 'deviceId', 'firstSeen', 'lastSeen', 'pageViews', 'convertedAt', 'inferred'],
      },
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { deviceId: { type: 'string' }, linkedAt: { type: 'string' } },
        required: ['deviceId', 'linkedAt'],
      },
    },
    steps: { type: 'array', items: journeyStep },
    nextCursor: { type: ['string', 'null'] },
  },
  required: ['userId', 'steps', 'nextCursor'],
} as const;

const liveSession = {
  type: 'object',
  additionalProperties: false,
  nullable: true,
  description: 'The live session in the store, or null.',
  properties: {
    sessionId: { type: 'string' },
    deviceId: { type: 'string' },
    source: { type: 'string', enum: ['header', 'cookie', 'server'] },
    visitorHash: nullableString,
    firstSeen: time,
    lastSeen: time,
    pagesVisited: { type: 'integer' },
  },
  required: ['sessionId', 'deviceId', 'source', 'visitorHash', 'firstSeen', 'lastSeen', 'pagesVisited'],
} as const;

const persistedSession = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    source: { type: 'string' },
    visitorHash: nullableString,
    firstSeen: time,
    lastSeen: time,
    pageViews: { type: 'integer' },
    userAgent: nullableString,
    trafficClass: {
      type: 'string',
      description: 'human, bot, automation or fleet (docs/protocol.md, Bots and automation)',
    },
    trafficReason: nullableString,
    convertedUserId: nullableString,
    convertedAt: nullableTime,
    linkId: nullableString,
  },
  required: [
    'id',
    'source',
    'visitorHash',
    'firstSeen',
    'lastSeen',
    'pageViews',
    'userAgent',
    'trafficClass',
    'trafficReason',
    'convertedUserId',
    'convertedAt',
    'linkId',
  ],
} as const;

const deviceEdge = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deviceId: { type: 'string' },
    otherId: { type: 'string' },
    kind: { type: 'string', enum: ['cookie', 'yield', 'join'] },
    inferred: { type: 'boolean', description: 'A fingerprint join: an inference, revocable.' },
    firstSeen: time,
  },
  required: ['deviceId', 'otherId', 'kind', 'inferred', 'firstSeen'],
} as const;

const deviceBrowser = {
  type: 'object',
  additionalProperties: false,
  description:
    'The ids of the device’s browser: cookie and yield edges and standing fingerprint joins, resolved to ' +
    'the earliest seen id.',
  properties: {
    canonicalId: { type: 'string' },
    devices: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          deviceId: { type: 'string' },
          inferred: { type: 'boolean', description: 'Reached only through a fingerprint join.' },
          firstSeen: nullableTime,
        },
        required: ['deviceId', 'inferred', 'firstSeen'],
      },
    },
  },
  required: ['canonicalId', 'devices'],
} as const;

/** `GET /v1/admin/devices/:deviceId`: the device detail (every time ISO 8601). */
export const deviceAnswer = {
  type: 'object',
  additionalProperties: false,
  description: 'What Postgres and the store know of the device.',
  properties: {
    deviceId: { type: 'string' },
    liveSession,
    liveSessionError: {
      type: 'string',
      description: 'Why the store could not be read (then liveSession is null).',
    },
    persisted: {
      type: 'object',
      additionalProperties: false,
      properties: {
        firstSeen: nullableTime,
        lastSeen: nullableTime,
        pageViews: { type: 'integer' },
        sessions: { type: 'array', items: persistedSession },
      },
      required: ['firstSeen', 'lastSeen', 'pageViews', 'sessions'],
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { id: { type: 'string' }, userId: { type: 'string' }, linkedAt: time },
        required: ['id', 'userId', 'linkedAt'],
      },
    },
    edges: {
      type: 'array',
      description: 'Edges naming the device, as stored (docs/protocol.md, Edges).',
      items: deviceEdge,
    },
    browser: deviceBrowser,
  },
  required: ['deviceId', 'liveSession', 'persisted', 'links', 'edges', 'browser'],
} as const;

/** The answer of `GET /v1/admin/insights/timeseries`. */
export type TimeSeries = FromSchema<typeof timeSeriesAnswer>;
/** One bucket of {@link TimeSeries}. */
export type SeriesPoint = TimeSeries['points'][number];
/** The answer of `GET /v1/admin/insights/conversion`. */
export type ConversionFigures = FromSchema<typeof conversionAnswer>;
/** One bin of a histogram (`upper` null: open-ended). */
export type HistogramBin = ConversionFigures['timeToConvert'][number];
/** The answer of `GET /v1/admin/insights/paths`. */
export type PathsBeforeLogin = FromSchema<typeof pathsAnswer>;
/** One entry page or referrer of {@link PathsBeforeLogin}. */
export type EntryRow = PathsBeforeLogin['entryPages'][number];
/** The answer of `GET /v1/admin/insights/top`. */
export type TopPages = FromSchema<typeof topAnswer>;
/** One page or referrer of {@link TopPages}. */
export type TopRow = TopPages['pages'][number];
/** The answer of `GET /v1/admin/insights/excluded`. */
export type ExcludedTraffic = FromSchema<typeof excludedAnswer>;
/** The answer of `GET /v1/admin/insights/identity`. */
export type IdentityFigures = FromSchema<typeof identityAnswer>;
/** The answer of `GET /v1/admin/users/:userId`. */
export type JourneyPage = FromSchema<typeof journeyAnswer>;
/** The answer of `GET /v1/admin/devices/:deviceId`. */
export type DeviceDetail = FromSchema<typeof deviceAnswer>;
