/**
 * `GET /v1/session`, only with `DEBUG_ROUTES=true` or `DEMO=1`: the caller's device and live session.
 * A tracking route (device work happens), and never issues tokens.
 */
import type { DeviceAdmin } from '@devicelink/fastify';
import type { FastifyInstance } from 'fastify';
import { errorSchema } from './error-schema.js';

/** Registers the debug session route; `store` reads the live session. */
export async function sessionRoute(app: FastifyInstance, { store }: { store: DeviceAdmin }): Promise<void> {
  app.get(
    '/v1/session',
    {
      config: { devicelink: true },
      schema: {
        description: "The caller's device id, its source and live session (times in Unix ms).",
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
                      firstSeen: { type: 'number' },
                      lastSeen: { type: 'number' },
                    },
                  },
                ],
              },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request) => {
      const deviceId = request.deviceId;
      if (deviceId === null) return { deviceId: null, source: null, session: null };
      const live = await store.session(deviceId);
      return {
        deviceId,
        source: request.deviceSource,
        session: live
          ? {
              id: live.sessionId,
              pagesVisited: live.pagesVisited,
              firstSeen: live.firstSeen,
              lastSeen: live.lastSeen,
            }
          : null,
      };
    },
  );
}
