/**
 * The `POST /v1/events` body as a JSON Schema (OpenAPI 3.0 dialect): the documented form of what
 * `parseEventsBody` accepts, made of the same limits. The parser is the runtime: it names precisely what
 * is wrong, host apps and the plugin call it without a schema library, and a compiled schema plus the
 * URL step costs the same CPU. The collector's events-schema test checks over generated bodies that
 * this schema and the parser accept and refuse the same ones, except what a schema cannot say (a URL
 * that names no page), which the description of `url` states.
 */
import { CLIENT_EVENT_TYPES, MAX_BODY_BYTES, MAX_EVENT_TS, MAX_EVENTS_PER_REQUEST } from './events.js';
import { MAX_QUERY_VALUE_LENGTH } from './text-normalisation.js';
import { MAX_HOST_LENGTH, MAX_URL_LENGTH } from './url-rules.js';

/** An RFC 9562 UUID in any case, as `isUuid` reads it. */
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** One hex digit repeated in any case, as `isConstantUuid` reads it (the nil UUID, `ffffffff-…`). */
const CONSTANT_UUID_PATTERN = constantUuidPattern();

function constantUuidPattern(): string {
  const digits = [...'0123456789abcdef'].map((d) => {
    const c = /[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d;
    return `${c}{8}-${c}{4}-${c}{4}-${c}{4}-${c}{12}`;
  });
  return `^(?:${digits.join('|')})$`;
}

const eventSchema = {
  type: 'object',
  properties: {
    type: {
      type: 'string',
      enum: CLIENT_EVENT_TYPES,
      description: 'Only `pageview`; the collector’s own record types are refused (`DL_EVENT_TYPE_REFUSED`).',
    },
    url: {
      type: 'string',
      minLength: 1,
      description:
        `An http(s) URL or a path (else \`DL_INVALID_URL\`, as for a host over ${MAX_HOST_LENGTH} ` +
        'characters). Stored without the fragment and the query parameters outside `QUERY_ALLOWLIST`, ' +
        `lone surrogates as U+FFFD, each kept value cut to ${MAX_QUERY_VALUE_LENGTH} code units and the ` +
        `whole to ${MAX_URL_LENGTH} characters (never refused for its length).`,
    },
    referrer: {
      type: 'string',
      nullable: true,
      description:
        `Stored as its origin only (read from its first ${MAX_URL_LENGTH} characters); none when it ` +
        'has no http(s) origin. Empty or null: none.',
    },
    id: {
      type: 'string',
      pattern: UUID_PATTERN,
      not: { pattern: CONSTANT_UUID_PATTERN },
      description:
        'Event id (a UUID; the SDK sends UUIDv7), reused on retry so the event counts once (dedupe ' +
        '10 min). A constant id (one hex digit repeated, as the nil UUID) is refused.',
    },
    ts: { type: 'number', minimum: 0, maximum: MAX_EVENT_TS, description: 'Client clock, Unix ms.' },
  },
  required: ['type', 'url'],
} as const;

/**
 * The events body as documented in the collector's OpenAPI document (both content types: JSON and the
 * `text/plain` beacon). Unknown keys are ignored.
 */
export const EVENTS_BODY_SCHEMA = {
  type: 'object',
  properties: {
    deviceId: {
      description:
        'Device id for beacons (they cannot send headers); a value that is not a valid id counts as absent.',
    },
    fresh: { description: '`true`: the body’s `deviceId` was minted and not yet answered (beacons).' },
    consent: {
      type: 'string',
      description: '`denied` (any case) means no device work, like the header.',
    },
    automation: {
      description:
        "The page's automation signals (the SDK's automation chunk: `webdriver`, `headless`, …), an " +
        'array of strings: any known one stores these page views as automation, unless the user agent ' +
        'is allow-listed; never clears a marked user agent. Any other value counts as none.',
    },
    events: { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, items: eventSchema },
  },
  required: ['events'],
  description: `At most ${MAX_BODY_BYTES} bytes. Keys \`__proto__\` and \`constructor.prototype\` are refused.`,
} as const;
