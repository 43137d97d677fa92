/**
 * The answers of the collector's read API (apps/collector/README.md, Dashboard and read API) as JSON
 * schemas, and their types derived from them: the collector serializes and documents each answer with
 * its schema, the dashboard reads it with its type, so the two cannot drift apart. The types come from
 * json-schema-to-ts at compile time. Every object is closed (`additionalProperties: false`: the
 * serializer writes the listed properties only) and lists what always comes as required, so the derived
 * types have no index signature and no needless optional fields.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * A closed object schema of `properties`, every one required but the `optional` ones.
 *
 * @example
 * closed({ id: { type: 'string' }, note: { type: 'string' } }, ['note']);
 */
function closed<const P extends Record<string, JSONSchema>, O extends keyof P & string = never>(
  properties: P,
  optional: readonly O[] = [],
) {
  const required = Object.keys(properties).filter((key) => !optional.includes(key as O));
  return {
    type: 'object',
    additionalProperties: false,
    properties,
    required: required as Exclude<keyof P & string, O>[],
  } as const;
}

const count = { type: 'integer' } as const;
const string = { type: 'string' } as const;
const nullableRate = { type: ['number', 'null'] } as const;
const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: 'string', format: 'date-time', nullable: true } as const;
const nullableString = { type: 'string', nullable: true } as const;
const orNull = { type: ['string', 'null'] } as const;

const histogram = {
  type: 'array',
  items: closed({ lower: { type: 'number' }, upper: { type: ['number', 'null'] }, count }),
} as const;

/** What a roll-up key is; `(other)` is the persister's ROLLUP_OTHER_KEY (docs/deploy.md, Limits). */
const rollupKey = {
  type: 'string',
  description:
    'A page (URL without query), a referrer origin ("" for none), or "(other)": the pages or ' +
    'origins past the most viewed ROLLUP_KEYS_PER_HOUR (100) of a past hour, counted together.',
} as const;

const entryRows = {
  type: 'array',
  items: closed({
    key: rollupKey,
    convertedSessions: count,
    sessions: count,
    conversionRate: nullableRate,
  }),
} as const;

const topRows = {
  type: 'array',
  items: closed({ key: rollupKey, pageViews: count }),
} as const;

/** `GET /v1/admin/insights/timeseries`. */
export const timeSeriesAnswer = closed({
  from: string,
  to: string,
  bucket: string,
  tz: string,
  points: {
    type: 'array',
    items: closed({
      start: string,
      local: string,
      pageViewsAnonymous: count,
      pageViewsSignedIn: count,
      sessions: count,
      convertedSessions: count,
      conversionRate: nullableRate,
    }),
  },
});

/** `GET /v1/admin/insights/conversion`. */
export const conversionAnswer = closed({
  sessionsStarted: count,
  convertedSessions: count,
  conversionRate: nullableRate,
  timeToConvert: histogram,
  viewsBeforeConversion: histogram,
});

/** `GET /v1/admin/insights/paths`. */
export const pathsAnswer = closed({ entryPages: entryRows, entryReferrers: entryRows });

/** `GET /v1/admin/insights/top`. */
export const topAnswer = closed({ pages: topRows, referrers: topRows });

/** `GET /v1/admin/insights/excluded`. */
export const excludedAnswer = closed({
  byClass: {
    type: 'array',
    items: closed({ trafficClass: string, sessions: count, pageViews: count }),
  },
  topUserAgents: {
    type: 'array',
    items: closed({
      userAgent: orNull,
      trafficClass: string,
      reason: orNull,
      sessions: count,
    }),
  },
});

/** `GET /v1/admin/insights/identity`. */
export const identityAnswer = closed({
  devices: count,
  users: count,
  devicesPerUser: histogram,
  cookieEdges: count,
  fingerprintJoins: { ...closed({ standing: count, revoked: count }), type: ['object', 'null'] },
  sharedFingerprints: { type: ['integer', 'null'] },
  serverMadeIds: count,
  edgeSource: string,
});

const journeyStep = closed({
  eventId: string,
  at: string,
  url: string,
  referrer: orNull,
  deviceId: orNull,
  sessionId: orNull,
  signedIn: { type: 'boolean' },
});

const journeySession = closed({
  sessionId: string,
  deviceId: string,
  firstSeen: string,
  lastSeen: string,
  pageViews: count,
  convertedAt: orNull,
  inferred: { type: 'boolean' },
});

/** `GET /v1/admin/users/:userId`: a page of the journey; `sessions` and `links` on the first page only. */
export const journeyAnswer = closed(
  {
    userId: string,
    sessions: { type: 'array', items: journeySession },
    links: { type: 'array', items: closed({ deviceId: string, linkedAt: string }) },
    steps: { type: 'array', items: journeyStep },
    nextCursor: orNull,
  },
  ['sessions', 'links'],
);

const liveSession = {
  ...closed({
    sessionId: string,
    deviceId: string,
    source: { type: 'string', enum: ['header', 'cookie', 'server'] },
    visitorHash: nullableString,
    firstSeen: time,
    lastSeen: time,
    pagesVisited: count,
  }),
  nullable: true,
  description: 'The live session in the store, or null.',
} as const;

// In the order the answer has always had (the serializer writes properties in schema order).
const persistedSession = closed({
  id: string,
  source: string,
  firstSeen: time,
  lastSeen: time,
  pageViews: count,
  visitorHash: nullableString,
  userAgent: nullableString,
  trafficClass: {
    type: 'string',
    description: 'human, bot, automation or fleet (docs/protocol.md, Bots and automation)',
  },
  trafficReason: nullableString,
  convertedUserId: nullableString,
  convertedAt: nullableTime,
  linkId: nullableString,
});

const deviceEdge = closed({
  deviceId: string,
  otherId: string,
  kind: { type: 'string', enum: ['cookie', 'yield', 'join'] },
  inferred: { type: 'boolean', description: 'A fingerprint join: an inference, revocable.' },
  firstSeen: time,
});

const deviceBrowser = {
  ...closed({
    canonicalId: string,
    devices: {
      type: 'array',
      items: closed({
        deviceId: string,
        inferred: { type: 'boolean', description: 'Reached only through a fingerprint join.' },
        firstSeen: nullableTime,
      }),
    },
  }),
  description:
    'The ids of the device’s browser: cookie and yield edges and standing fingerprint joins, resolved to ' +
    'the earliest seen id.',
} as const;

/** `GET /v1/admin/devices/:deviceId`: the device detail (every time ISO 8601). */
export const deviceAnswer = {
  ...closed(
    {
      deviceId: string,
      liveSession,
      liveSessionError: {
        type: 'string',
        description: 'Why the store could not be read (then liveSession is null).',
      },
      persisted: closed({
        firstSeen: nullableTime,
        lastSeen: nullableTime,
        pageViews: count,
        sessions: { type: 'array', items: persistedSession },
      }),
      links: { type: 'array', items: closed({ id: string, userId: string, linkedAt: time }) },
      edges: {
        type: 'array',
        description: 'Edges naming the device, as stored (docs/protocol.md, Edges).',
        items: deviceEdge,
      },
      browser: deviceBrowser,
    },
    ['liveSessionError'],
  ),
  description: 'What Postgres and the store know of the device.',
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
