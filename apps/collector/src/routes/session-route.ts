/**
 * `GET /v1/session`, only with `DEBUG_ROUTES=true` or `DEMO=1`: the caller's device and live session.
 * A tracking route (device work happens), and never issues tokens.
 */
import type { FastifyInstance } from 'fastify';
import { StoreUnavailableError } from '../http/errors.js';
import { deviceCookies, deviceHeaders, errorResponses } from './error-schema.js';

/** Registers the debug session route. */
export async function sessionRoute(app: FastifyInstance): Promise<void> {
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
      let live: Awaited<ReturnType<typeof app.devicelink.sessions.get>>;
      try {
        live = await app.devicelink.sessions.get(deviceId);
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
