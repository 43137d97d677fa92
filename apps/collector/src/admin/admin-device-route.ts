/**
 * `GET /v1/admin/devices/:deviceId` (either token) and `DELETE /v1/admin/devices/:deviceId` (`ADMIN_TOKEN`
 * only: the dashboard token gets 403), registered only with a token (else they do not exist: 404). The detail reads Postgres, the source of every report;
 * the live session from the store is a hint. A device neither Postgres nor the store knows is a 404.
 * Every time in the answer is ISO 8601 (the store keeps milliseconds; the answer converts them).
 */
import type { DeviceAdmin, LiveSession } from '@devicelink/fastify';
import type { Database } from '@devicelink/persister';
import { isValidDeviceId } from '@devicelink/protocol';
import { deviceAnswer } from '@devicelink/protocol/schemas';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { DeviceNotFoundError, InvalidDeviceIdError, StoreUnavailableError } from '../http/errors.js';
import { fromDatabase } from '../http/from-database.js';
import { STORE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import { adminSecurity, errorResponses, readSecurity } from '../http/route-schemas.js';
import { persistedDevice } from '../read/device-detail.js';
import { auditErasure } from './erasure-audit.js';

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

/** Registers the admin device routes behind the tokens (own scope: the guard applies to them alone). */
export async function adminDeviceRoutes(app: FastifyInstance, options: AdminRouteOptions): Promise<void> {
  // The detail takes either token; the erasure only the admin token.
  adminGuard(app, options);
  deviceDetailRoute(app, options);
  // Without ADMIN_TOKEN (the dashboard token alone) there is no erasure: 404.
  if (options.adminToken !== null) deviceErasureRoute(app, options);
}

/** `GET /v1/admin/devices/:deviceId`: the device detail, either token. */
function deviceDetailRoute(app: FastifyInstance, options: AdminRouteOptions): void {
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
          200: deviceAnswer,
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
      const { known, ...persisted } = await fromDatabase(() => persistedDevice(options.db, deviceId));
      if (!known && !live) throw new DeviceNotFoundError();
      return {
        deviceId,
        liveSession: live
          ? { ...live, firstSeen: isoMs(live.firstSeen), lastSeen: isoMs(live.lastSeen) }
          : null,
        ...(liveError ? { liveSessionError: liveError } : {}),
        ...persisted,
      };
    },
  );
}

/** `DELETE /v1/admin/devices/:deviceId`: erasure, the admin token only (the dashboard token gets 403). */
function deviceErasureRoute(app: FastifyInstance, options: AdminRouteOptions): void {
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
