/**
 * `POST /v1/events` (docs/protocol.md, HTTP API): 1 to 100 page views as JSON or as a `text/plain`
 * beacon (sendBeacon cannot send JSON without a preflight), at most 64 KiB. Answers 202 once the events
 * are on the queue.
 */
import {
  MAX_BODY_BYTES,
  MAX_EVENTS_PER_REQUEST,
  MAX_URL_LENGTH,
  parseEventsBody,
  parseJsonText,
} from '@devicelink/protocol';
import type { FastifyInstance } from 'fastify';
import { bodyError, StoreUnavailableError } from '../http/errors.js';
import { limitedError } from '../http/rate-limited.js';
import { deviceCookies, deviceHeaders, errorResponses } from '../http/route-schemas.js';

/** Options of {@link eventsRoute}. */
export interface EventsRouteOptions {
  queryAllowlist: readonly string[];
  /** Called with the number of page views a request put on the queue (metrics). */
  onAccepted?: (count: number, kind: 'device' | 'user') => void;
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

/** The events body as the protocol's parser takes it (docs/protocol.md, HTTP API). */
const eventsBodySchema = {
  type: 'object',
  properties: {
    deviceId: {
      type: 'string',
      description: 'Device id for beacons (they cannot send headers); an invalid one counts as absent.',
    },
    consent: { type: 'string', description: '`denied` (any case) means no device work, like the header.' },
    automation: {
      type: 'array',
      items: { type: 'string' },
      description:
        "The page's automation signals (the SDK's automation chunk: `webdriver`, `headless`, …): any known " +
        'one stores these page views as automation, unless the user agent is allow-listed. Never clears a marked user agent.',
    },
    events: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_EVENTS_PER_REQUEST,
      items: {
        type: 'object',
        properties: {
          type: { type: 'string', enum: ['pageview'] },
          url: {
            type: 'string',
            minLength: 1,
            maxLength: MAX_URL_LENGTH,
            description: 'http(s) URL or a path; stored without fragment and non-allowlisted query.',
          },
          referrer: { type: 'string', maxLength: MAX_URL_LENGTH, description: 'Kept as its origin only.' },
          id: { type: 'string', format: 'uuid', description: 'Event id, reused on retry (dedupe 10 min).' },
          ts: { type: 'number', minimum: 0, maximum: 8.64e15, description: 'Client clock, Unix ms.' },
        },
        required: ['type', 'url'],
      },
    },
  },
  required: ['events'],
  description: `At most ${MAX_BODY_BYTES} bytes. Keys \`__proto__\` and \`constructor.prototype\` are refused.`,
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
        // The shape is checked by the protocol's parser, which says precisely what is wrong.
        body: {
          content: {
            'application/json': { schema: eventsBodySchema },
            'text/plain': { schema: eventsBodySchema },
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
