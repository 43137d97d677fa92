/**
 * `DELETE /v1/admin/users/:userId` (docs/protocol.md, Erasure), registered only with
 * `ADMIN_TOKEN`. Everything goes through the queue, so it lands behind what is already queued:
 *
 * 1. the user tombstone and an `erase-user` record in the user id's partition (later events and links
 *    of the user are refused for 30 days);
 * 2. every device the user is linked to (Postgres, the link log) that no other user is linked to is
 *    erased like `DELETE /v1/admin/devices/:deviceId` (its keys, tombstone, `erase` record);
 * 3. every device the user shares with another user forgets the user, and gets an `erase-user` record
 *    in its partition: the sessions converted to the user go, the other user's data stays.
 *
 * 4. the ids cookie edges connect to an erased device (the same browser's earlier ids), unless another
 *    user is linked to them, are erased too. Fingerprint joins are never followed: they are inferences,
 *    and a twin's data must not go with the user's.
 *
 * 204 once all of it is queued; 503 when the store or Postgres cannot be reached (nothing is lost by
 * retrying: every step is idempotent).
 */
import type { DeviceAdmin } from '@devicelink/fastify';
import type { Database } from '@devicelink/persister';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { type AdminRouteGuards, adminGuard, adminRouteConfig, guardStatuses } from '../auth/admin-auth.js';
import { isAcceptedUserId, MAX_USER_ID_LENGTH } from '../auth/user-id-rules.js';
import { InvalidUserIdError, StoreUnavailableError } from '../http/errors.js';
import { fromDatabase } from '../http/from-database.js';
import { STORE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import { adminSecurity, errorResponses } from '../http/route-schemas.js';
import { type UserErasureTargets, userErasureTargets } from '../read/user-erasure-targets.js';
import { auditErasure } from './erasure-audit.js';

/** Options of {@link adminUserRoutes}. */
export interface AdminUserRouteOptions extends AdminRouteGuards {
  db: Kysely<Database>;
  /** Erasure of the user and of its devices. */
  store: DeviceAdmin;
}

/** Registers the user erasure route behind the admin token (own scope). */
export async function adminUserRoutes(app: FastifyInstance, options: AdminUserRouteOptions): Promise<void> {
  // The dashboard token is refused with 403 (read-only), not 401.
  adminGuard(app, options);

  app.delete<{ Params: { userId: string } }>(
    '/v1/admin/users/:userId',
    {
      config: adminRouteConfig(options),
      // A user id the schema refuses is answered DL_INVALID_USER_ID by the handler, not a generic 400.
      attachValidation: true,
      schema: {
        description:
          'Erases the user: links, sessions and page views converted to it, its own page views, and its devices no other user is linked to; 204.',
        params: {
          type: 'object',
          properties: {
            userId: {
              type: 'string',
              minLength: 1,
              maxLength: MAX_USER_ID_LENGTH,
              description: 'A JWT `sub`: no control, line-separator or bidi-control characters.',
            },
          },
          required: ['userId'],
        },
        security: adminSecurity,
        response: {
          204: { type: 'null', description: 'Erasure queued.' },
          ...errorResponses(400, ...guardStatuses(options), 414, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      if (request.validationError || !isAcceptedUserId(userId)) throw new InvalidUserIdError();
      // Tombstone first: from here on no new link or page view of the user is queued.
      await storeStep(request, () => within(options.store.eraseUser(userId), STORE_TIMEOUT_MS));
      const targets = await fromDatabase(() => userErasureTargets(options.db, userId));
      await storeStep(request, () => eraseTargets(options.store, userId, targets));
      await auditErasure(options.db, request, 'erase-user', userId);
      reply.code(204).send();
    },
  );
}

/** Runs a step of the erasure on the store; a failure is a 503 (every step is idempotent: retry). */
async function storeStep(request: FastifyRequest, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (err) {
    request.log.error({ err }, 'user erasure failed');
    throw new StoreUnavailableError();
  }
}

/** Erases the user's unshared devices and their cookie-connected ids; shared devices forget the user. */
async function eraseTargets(store: DeviceAdmin, userId: string, targets: UserErasureTargets): Promise<void> {
  for (const d of targets.devices) {
    if (d.shared) await within(store.forgetUser(d.device_id, userId), STORE_TIMEOUT_MS);
    else await within(store.erase(d.device_id), STORE_TIMEOUT_MS);
  }
  for (const id of [...targets.connected].sort()) await within(store.erase(id), STORE_TIMEOUT_MS);
}
