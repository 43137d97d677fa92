/**
 * `POST /v1/events` (docs/protocol.md, HTTP API): 1 to 100 page views as JSON or as a `text/plain`
 * beacon (sendBeacon cannot send JSON without a preflight), at most 64 KiB. Answers 202 once the events
 * are on the queue.
 */
import {
  MAX_BODY_BYTES,
  type OnNormalised,
  parseEventsBody,
  parseJsonText,
  storedUserAgent,
} from '@devicelink/protocol';
import { EVENTS_BODY_SCHEMA } from '@devicelink/protocol/schemas';
import type { FastifyInstance } from 'fastify';
import { bodyError, StoreUnavailableError } from '../http/errors.js';
import { limitedError } from '../http/rate-limited.js';
import { deviceCookies, deviceHeaders, errorResponses } from '../http/route-schemas.js';

/** Options of {@link eventsRoute}. */
export interface EventsRouteOptions {
  queryAllowlist: readonly string[];
  /** Called with the number of page views a request put on the queue (metrics). */
  onAccepted?: (count: number, kind: 'device' | 'user') => void;
  /** Called for each URL, referrer, user agent or kept query value of an accepted body made well-formed or cut. */
  onNormalised?: OnNormalised;
}

const acceptedSchema = {
  type: 'object',
  description:
    'Accepted onto the queue (`tracked: false`: consent denied or an erased device, nothing queued).',
  properties: {
    accepted: { type: 'integer' },
    tracked: { type: 'boolean' },
    deviceId: { type: 'string' },
    sessionId: { type: 'string' },
    userId: { type: 'string' },
  },
  required: ['accepted', 'tracked'],
  additionalProperties: false,
} as const;

/** What the plugin's `track()` answers when the page views went onto the queue. */
type Accepted = Extract<Awaited<ReturnType<FastifyInstance['devicelink']['track']>>, { tracked: true }>;

/** Registers the events route (in its own scope: the text/plain parser applies to it alone). */
export async function eventsRoute(app: FastifyInstance, options: EventsRouteOptions): Promise<void> {
  parseBeaconsAsJson(app);
  app.post(
    '/v1/events',
    {
      bodyLimit: MAX_BODY_BYTES,
      // The plugin's rate limits are counted by track(), with the page views.
      config: { devicelink: true },
      schema: {
        description: 'Page views, JSON or a text/plain beacon; 1 to 100 events, at most 64 KiB.',
        // The documented schema; the protocol's parser checks the same rules (a test proves they agree),
        // names precisely what is wrong, and costs no more CPU than a compiled schema.
        body: {
          content: {
            'application/json': { schema: EVENTS_BODY_SCHEMA },
            'text/plain': { schema: EVENTS_BODY_SCHEMA },
          },
        },
        headers: deviceHeaders,
        cookies: deviceCookies,
        response: { 202: acceptedSchema, ...errorResponses(400, 403, 413, 415, 429, 503) },
      },
      // The schema above documents; validation is the parser's (it never throws, whatever it gets).
      validatorCompiler: () => () => true,
      // The Origin check (CORS_ORIGINS) runs earlier, in ../http/request-guards.ts, before any token work.
    },
    async (request, reply) => {
      const parsed = parseNormalised(request.body, request.headers['user-agent'], options);
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
      return acceptedAnswer(result);
    },
  );
}

/**
 * Beacons arrive as text/plain; their text is the same JSON. One parser for both content types (in
 * this route's scope), so a beacon and a JSON request are refused for the same inputs (bad JSON,
 * `__proto__`, …): a 400.
 */
function parseBeaconsAsJson(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'string', bodyLimit: MAX_BODY_BYTES },
    (_req, body, done) => {
      const parsed = parseJsonText(body as string);
      if (parsed.ok) done(null, parsed.value);
      else done(bodyError(parsed.error), undefined);
    },
  );
}

/** The 202 body of page views on the queue: the user's id, or the device's and its live session's. */
function acceptedAnswer(result: Accepted) {
  if ('userId' in result) return { accepted: result.accepted, tracked: true, userId: result.userId };
  return {
    accepted: result.accepted,
    tracked: true,
    deviceId: result.deviceId,
    // Omitted when only duplicates arrived after the session ended (nothing live to name).
    ...(result.sessionId ? { sessionId: result.sessionId } : {}),
  };
}

/**
 * The parsed body; each normalisation of its URLs and referrers, and of the user agent the plugin
 * stores with them, is told to `onNormalised` only once the body is accepted.
 */
function parseNormalised(
  body: unknown,
  userAgent: string | undefined,
  { queryAllowlist, onNormalised }: EventsRouteOptions,
): ReturnType<typeof parseEventsBody> {
  if (!onNormalised) return parseEventsBody(body, { queryAllowlist });
  const noted: Parameters<OnNormalised>[] = [];
  const parsed = parseEventsBody(body, {
    queryAllowlist,
    onNormalised: (field, what) => {
      noted.push([field, what]);
    },
  });
  if (!parsed.ok) return parsed;
  for (const [field, what] of noted) onNormalised(field, what);
  storedUserAgent(userAgent, onNormalised);
  return parsed;
}
