/**
 * `GET /v1/admin/devices/:deviceId` (either token) and `DELETE /v1/admin/devices/:deviceId` (`ADMIN_TOKEN`
 * only: the dashboard token gets 403), registered only with a token (else they do not exist: 404). The detail reads Postgres, the source of every report;
 * the live session from the store is a hint. A device neither Postgres nor the store knows is a 404.
 * Every time in the answer is ISO 8601 (the store keeps milliseconds; the answer converts them).
 */
import type { DeviceAdmin, LiveSession } from '@devicelink/fastify';
import type { Database } from '@devicelink/persister';
import { isValidDeviceId } from '@devicelink/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import {
  DeviceNotFoundError,
  databaseUnavailable,
  InvalidDeviceIdError,
  StoreUnavailableError,
} from '../http/errors.js';
import { STORE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import { recordAudit } from '../read/audit-log.js';
import { persistedDevice } from '../read/device-detail.js';
import { adminSecurity, errorResponses, readSecurity } from '../http/route-schemas.js';

/** Options of {@link adminDeviceRoutes}. */
export interface AdminRouteOptions extends AdminRouteGuards {
  db: Kysely<Database>;
  /** The live-session read and erasure. */
  store: DeviceAdmin;
}

const params = {
  type: 'object',
  properties: {
    deviceId: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{16,64}$',
      description: 'A device id: 16 to 64 characters of `[A-Za-z0-9_-]` (docs/protocol.md, Device id).',
    },
  },
  required: ['deviceId'],
} as const;

const isoMs = (ms: number) => new Date(ms).toISOString();

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: 'string', format: 'date-time', nullable: true } as const;
const nullableString = { type: 'string', nullable: true } as const;

/** The device detail (every time ISO 8601). */
const deviceSchema = {
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

/** Registers the admin device routes behind the admin token (own scope: the guard applies to them alone). */
export async function adminDeviceRoutes(app: FastifyInstance, options: AdminRouteOptions): Promise<void> {
  const { db } = options;
  // The detail takes either token; the erasure only the admin token.
  adminGuard(app, options);

  app.get<{ Params: { deviceId: string } }>(
    '/v1/admin/devices/:deviceId',
    {
      config: adminRouteConfig(options, 'read'),
      // An id the schema refuses is answered DL_INVALID_DEVICE_ID by the handler, not a generic 400.
      attachValidation: true,
      schema: {
        description:
          'Live session, persisted sessions and page-view count, identity links and edges of a device, and ' +
          'its browser: the ids cookie edges and standing fingerprint joins connect (joins marked inferred), ' +
          'with the canonical (earliest) id; 404 `DL_DEVICE_NOT_FOUND` when neither Postgres nor the store ' +
          'knows it. Either token.',
        security: readSecurity(options),
        params,
        response: {
          200: deviceSchema,
          ...errorResponses(400, ...guardStatuses(options, 'read'), 404, 414, 429, 503),
        },
      },
    },
    async (request) => {
      const { deviceId } = request.params;
      if (request.validationError || !isValidDeviceId(deviceId)) throw new InvalidDeviceIdError();
      let live: LiveSession | null = null;
      let liveError: string | null = null;
      try {
        live = await within(options.store.session(deviceId), STORE_TIMEOUT_MS);
      } catch (err) {
        liveError = (err as Error).message;
      }
      try {
        const { known, ...persisted } = await persistedDevice(db, deviceId);
        if (!known && !live) throw new DeviceNotFoundError();
        return {
          deviceId,
          liveSession: live
            ? { ...live, firstSeen: isoMs(live.firstSeen), lastSeen: isoMs(live.lastSeen) }
            : null,
          ...(liveError ? { liveSessionError: liveError } : {}),
          ...persisted,
        };
      } catch (err) {
        if (err instanceof DeviceNotFoundError) throw err;
        throw databaseUnavailable(err);
      }
    },
  );

  // Without ADMIN_TOKEN (the dashboard token alone) there is no erasure: 404.
  if (options.adminToken === null) return;
  app.delete<{ Params: { deviceId: string } }>(
    '/v1/admin/devices/:deviceId',
    {
      config: adminRouteConfig(options),
      // An id the schema refuses is answered DL_INVALID_DEVICE_ID by the handler, not a generic 400.
      attachValidation: true,
      schema: {
        description: 'Erases the device everywhere (through its queue partition); 204.',
        security: adminSecurity,
        params,
        response: {
          204: { type: 'null', description: 'Erasure queued.' },
          ...errorResponses(400, ...guardStatuses(options), 414, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { deviceId } = request.params;
      if (request.validationError || !isValidDeviceId(deviceId)) throw new InvalidDeviceIdError();
      try {
        await within(options.store.erase(deviceId), STORE_TIMEOUT_MS);
      } catch (err) {
        request.log.error({ err }, 'erasure failed');
        throw new StoreUnavailableError();
      }
      await auditErasure(options.db, request, 'erase-device', deviceId);
      reply.code(204).send();
    },
  );
}

/**
 * Records an erasure in the audit log. The erasure is queued already and is never undone for want of a
 * record: a failed write is logged at error level instead.
 */
export async function auditErasure(
  db: Kysely<Database>,
  request: FastifyRequest,
  action: 'erase-device' | 'erase-user',
  subject: string,
): Promise<void> {
  try {
    await recordAudit(db, { actor: request.tokenKind ?? 'admin', action, subject });
  } catch (err) {
    request.log.error({ err }, 'audit log write failed');
  }
}
