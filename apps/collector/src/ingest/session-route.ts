/**
 * `GET /v1/session`, only with `DEBUG_ROUTES=true` or `DEMO=1`: the caller's device and live session,
 * and whether Postgres holds a standing fingerprint join of it to an earlier device (the demo shows
 * how its id came; the other device is never named). A tracking route (device work happens), and
 * never issues tokens.
 */
import type { DeviceAdmin, LiveSession } from '@devicelink/fastify';
import type { Database } from '@devicelink/persister';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { StoreUnavailableError } from '../http/errors.js';
import { deviceCookies, deviceHeaders, errorResponses } from '../http/route-schemas.js';
import { standingJoin } from '../read/standing-join.js';

/** Options of {@link sessionRoute}. */
export interface SessionRouteOptions {
  /** Reads the live session. */
  store: DeviceAdmin;
  /** Reads the device's joins. */
  db: Kysely<Database>;
}

/** The caller's device, its source, whether it is joined, and its live session. */
const sessionSchema = {
  type: 'object',
  properties: {
    deviceId: { type: ['string', 'null'] },
    source: { type: ['string', 'null'] },
    joined: {
      type: 'boolean',
      description: 'A standing fingerprint join of this id to an earlier device (inferred).',
    },
    session: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            id: { type: 'string' },
            pagesVisited: { type: 'integer' },
            firstSeen: { type: 'string', format: 'date-time' },
            lastSeen: { type: 'string', format: 'date-time' },
          },
          required: ['id', 'pagesVisited', 'firstSeen', 'lastSeen'],
        },
      ],
    },
  },
} as const;

/** Registers the debug session route. */
export async function sessionRoute(app: FastifyInstance, { store, db }: SessionRouteOptions): Promise<void> {
  app.get(
    '/v1/session',
    {
      config: { devicelink: true },
      schema: {
        description: "The caller's device id, its source and live session (times ISO 8601).",
        headers: deviceHeaders,
        cookies: deviceCookies,
        response: {
          200: sessionSchema,
          ...errorResponses(503),
        },
      },
    },
    async (request) => {
      const deviceId = request.deviceId;
      if (deviceId === null) return { deviceId: null, source: null, joined: false, session: null };
      let live: LiveSession | null;
      // Postgres lags the queue a little, and a database outage must not break the page: not joined.
      const joined = standingJoin(db, deviceId).catch(() => false);
      try {
        live = await store.session(deviceId);
      } catch {
        throw new StoreUnavailableError();
      }
      return {
        deviceId,
        source: request.deviceSource,
        joined: await joined,
        session: live
          ? {
              id: live.sessionId,
              pagesVisited: live.pagesVisited,
              firstSeen: new Date(live.firstSeen).toISOString(),
              lastSeen: new Date(live.lastSeen).toISOString(),
            }
          : null,
      };
    },
  );
}
