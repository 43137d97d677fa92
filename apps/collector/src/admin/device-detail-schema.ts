/**
 * The answer schema of `GET /v1/admin/devices/:deviceId`: what Postgres and the store know of a device,
 * every time ISO 8601.
 */

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: 'string', format: 'date-time', nullable: true } as const;
const nullableString = { type: 'string', nullable: true } as const;

/** The device detail (every time ISO 8601). */
export const deviceDetailSchema = {
  type: 'object',
  description: 'What Postgres and the store know of the device.',
  properties: {
    deviceId: { type: 'string' },
    liveSession: {
      type: 'object',
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
    },
    liveSessionError: {
      type: 'string',
      description: 'Why the store could not be read (then liveSession is null).',
    },
    persisted: {
      type: 'object',
      properties: {
        firstSeen: nullableTime,
        lastSeen: nullableTime,
        pageViews: { type: 'integer' },
        sessions: {
          type: 'array',
          items: {
            type: 'object',
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
            required: ['id', 'source', 'firstSeen', 'lastSeen', 'pageViews'],
          },
        },
      },
      required: ['firstSeen', 'lastSeen', 'pageViews', 'sessions'],
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, userId: { type: 'string' }, linkedAt: time },
        required: ['id', 'userId', 'linkedAt'],
      },
    },
    edges: {
      type: 'array',
      description: 'Edges naming the device, as stored (docs/protocol.md, Edges).',
      items: {
        type: 'object',
        properties: {
          deviceId: { type: 'string' },
          otherId: { type: 'string' },
          kind: { type: 'string', enum: ['cookie', 'yield', 'join'] },
          inferred: { type: 'boolean', description: 'A fingerprint join: an inference, revocable.' },
          firstSeen: time,
        },
        required: ['deviceId', 'otherId', 'kind', 'inferred', 'firstSeen'],
      },
    },
    browser: {
      type: 'object',
      description:
        'The ids of the device’s browser: cookie and yield edges and standing fingerprint joins, resolved to ' +
        'the earliest seen id.',
      properties: {
        canonicalId: { type: 'string' },
        devices: {
          type: 'array',
          items: {
            type: 'object',
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
    },
  },
  required: ['deviceId', 'liveSession', 'persisted', 'links', 'edges', 'browser'],
} as const;
