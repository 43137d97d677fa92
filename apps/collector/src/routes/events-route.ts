/**
 * `POST /v1/events` (../shared/CONTRACT.md, HTTP API): 1 to 100 page views as JSON or as a
 * `text/plain` beacon (sendBeacon cannot send JSON without a preflight), at most 64 KiB. Answers 202
 * once the events are on the queue.
 */
import { MAX_BODY_BYTES, parseEventsBody } from '@devicelink/protocol';
import type { FastifyInstance } from 'fastify';
import { bodyError, InvalidBodyError, StoreUnavailableError } from '../http/errors.js';
import { limitedError } from '../http/rate-limited.js';
import { errorSchema } from './error-schema.js';

/** Options of {@link eventsRoute}. */
export interface EventsRouteOptions {
  queryAllowlist: readonly string[];
  /** Called with the number of page views a request put on the queue (metrics). */
  onAccepted?: (count: number, kind: 'device' | 'user') => void;
}

const acceptedSchema = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    tracked: { type: 'boolean' },
    deviceId: { type: 'string' },
    sessionId: { type: 'string' },
    userId: { type: 'string' },
  },
  required: ['accepted', 'tracked'],
} as const;

/** Registers the events route (in its own scope: the text/plain parser applies to it alone). */
export async function eventsRoute(app: FastifyInstance, options: EventsRouteOptions): Promise<void> {
  // Beacons arrive as text/plain; their text is the same JSON. Bad JSON is the client's error, a 400.
  app.addContentTypeParser(
    'text/plain',
    { parseAs: 'string', bodyLimit: MAX_BODY_BYTES },
    (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new InvalidBodyError('body is not valid JSON'), undefined);
      }
    },
  );

  app.post(
    '/v1/events',
    {
      bodyLimit: MAX_BODY_BYTES,
      // The plugin's rate limits are counted by track(), with the page views.
      config: { devicelink: true },
      schema: {
        description: 'Page views, JSON or a text/plain beacon; 1 to 100 events, at most 64 KiB.',
        // The shape is checked by the protocol's parser, which says precisely what is wrong.
        body: {
          type: 'object',
          properties: {
            deviceId: { type: 'string' },
            consent: { type: 'string' },
            events: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  type: { type: 'string', enum: ['pageview'] },
                  url: { type: 'string' },
                  referrer: { type: 'string' },
                  id: { type: 'string', format: 'uuid' },
                  ts: { type: 'number' },
                },
              },
            },
          },
        },
        response: { 202: acceptedSchema, '4xx': errorSchema, '5xx': errorSchema },
      },
      // The schema above documents; validation is the parser's (it never throws, whatever it gets).
      validatorCompiler: () => () => true,
      // The Origin check (CORS_ORIGINS) runs earlier, in ../http/request-guards.ts, before any token work.
    },
    async (request, reply) => {
      const parsed = parseEventsBody(request.body, { queryAllowlist: options.queryAllowlist });
      if (!parsed.ok) throw bodyError(parsed.error);
      let result: Awaited<ReturnType<typeof app.devicelink.track>>;
      try {
        result = await app.devicelink.track(request, parsed.value.events);
      } catch (err) {
        // Logged by the error handler, once per cause and interval (Redis away fails every request).
        throw new StoreUnavailableError({ cause: err });
      }
      // Nothing was counted; the plugin set Retry-After and x-ratelimit-*.
      if (!result.tracked && result.reason === 'limited') throw limitedError(result.by, result.limit);
      reply.code(202);
      if (!result.tracked) return { accepted: 0, tracked: false };
      options.onAccepted?.(result.accepted, 'userId' in result ? 'user' : 'device');
      if ('userId' in result) return { accepted: result.accepted, tracked: true, userId: result.userId };
      return {
        accepted: result.accepted,
        tracked: true,
        deviceId: result.deviceId,
        // Omitted when only duplicates arrived after the session ended (nothing live to name).
        ...(result.sessionId ? { sessionId: result.sessionId } : {}),
      };
    },
  );
}
