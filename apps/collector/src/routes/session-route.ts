/**
 * `GET /v1/session`, only with `DEBUG_ROUTES=true` or `DEMO=1`: the caller's device and live session.
 * A tracking route (device work happens), and never issues tokens.
 */
import type { DeviceAdmin, LiveSession } from '@devicelink/fastify';
import type { FastifyInstance } from 'fastify';
import { StoreUnavailableError } from '../http/errors.js';
import { deviceCookies, deviceHeaders, errorResponses } from './error-schema.js';

/** Registers the debug session route; `store` reads the live session. */
export async function sessionRoute(app: FastifyInstance, { store }: { store: DeviceAdmin }): Promise<void> {
  app.get(
    '/v1/session',
    {
      config: { devicelink: true },
      schema: {
        description: "The caller's device id, its source and live session (times ISO 8601).",
        headers: deviceHeaders,
        cookies: deviceCookies,
        response: {
          200: {
            type: 'object',
            properties: {
              deviceId: { type: ['string', 'null'] },
              source: { type: ['string', 'null'] },
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
          },
          ...errorResponses(503),
        },
      },
    },
    async (request) => {
      const deviceId = request.deviceId;
      if (deviceId === null) return { deviceId: null, source: null, session: null };
      let live: LiveSession | null;
      try {
        live = await store.session(deviceId);
      } catch {
        throw new StoreUnavailableError();
      }
      return {
        deviceId,
        source: request.deviceSource,
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
