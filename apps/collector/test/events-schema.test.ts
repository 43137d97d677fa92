/**
 * The documented events body (the OpenAPI schema, `EVENTS_BODY_SCHEMA`) and the runtime parser
 * (`parseEventsBody`) accept and refuse the same bodies: the schema compiled as a validator of the
 * document would be (Ajv, no type coercion) against the parser, over generated bodies that break each
 * rule now and then. The one refusal a schema cannot state is a URL that names no page
 * (`DL_INVALID_URL`), which the schema's description of `url` gives.
 */
import { MAX_EVENTS_PER_REQUEST, parseEventsBody } from '@devicelink/protocol';
import { EVENTS_BODY_SCHEMA } from '@devicelink/protocol/schemas';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const validate = new Ajv({ strict: true, allErrors: false }).compile(EVENTS_BODY_SCHEMA);

/** Either a value the rules allow or one that breaks them; `undefined` leaves the key out. */
const odd = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 4 }),
  fc.constant([]),
  fc.constant({}),
);
const field = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof(
    { arbitrary: good, weight: 6 },
    { arbitrary: odd, weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );

const constantId = fc.tuple(fc.constantFrom(...'0123456789abcdefABCDEF'), fc.boolean()).map(([d, upper]) => {
  const c = upper ? d.toUpperCase() : d;
  return `${c.repeat(8)}-${c.repeat(4)}-${c.repeat(4)}-${c.repeat(4)}-${c.repeat(12)}`;
});
const event = fc.record(
  {
    type: fc.oneof(
      { arbitrary: fc.constant('pageview'), weight: 8 },
      { arbitrary: fc.constantFrom('link', 'erase', 'purchase', 'Pageview', ''), weight: 1 },
      { arbitrary: odd, weight: 1 },
    ),
    url: field(
      fc.oneof(
        fc.webUrl({ withQueryParameters: true, withFragments: true }),
        fc.string({ maxLength: 30 }).map((s) => `/${s}`),
        fc.constantFrom(
          '',
          'javascript:alert(1)',
          'data:,x',
          'relative',
          '//evil.test/x',
          `https://${'h'.repeat(254)}/`,
        ),
        fc.string({ unit: 'binary', maxLength: 20 }),
      ),
    ),
    referrer: field(
      fc.oneof(
        fc.webUrl(),
        fc.constantFrom('', 'not a url', '/path'),
        fc.string({ unit: 'binary', maxLength: 12 }),
      ),
    ),
    id: field(
      fc.oneof(
        fc.uuid(),
        fc.uuid().map((u) => u.toUpperCase()),
        constantId,
        fc.uuid().map((u) => `urn:uuid:${u}`),
        fc.uuid().map((u) => ` ${u}`),
      ),
    ),
    ts: field(
      fc.oneof(fc.integer({ min: 0, max: 2 ** 47 }), fc.constantFrom(0, 8.64e15, 8.64e15 + 1, -1, 1.5, -0)),
    ),
    extra: fc.option(fc.jsonValue(), { nil: undefined }),
  },
  { requiredKeys: [] },
);
const events = fc.oneof(
  { arbitrary: fc.array(event, { minLength: 1, maxLength: 4 }), weight: 12 },
  { arbitrary: fc.constant([]), weight: 1 },
  {
    arbitrary: fc
      .constantFrom(MAX_EVENTS_PER_REQUEST, MAX_EVENTS_PER_REQUEST + 1)
      .map((n) => Array.from({ length: n }, () => ({ type: 'pageview', url: '/' }))),
    weight: 1,
  },
  { arbitrary: fc.oneof(fc.array(odd, { maxLength: 2 }), odd), weight: 1 },
);
const body = fc.oneof(
  {
    arbitrary: fc.record(
      {
        events,
        deviceId: fc.oneof(fc.constant('abcdefghijklmnop0123'), odd),
        fresh: odd,
        consent: field(fc.constantFrom('denied', 'granted', 'DENIED', '')),
        automation: fc.oneof(fc.constant(['webdriver']), odd),
        other: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
    weight: 12,
  },
  { arbitrary: fc.oneof(fc.jsonValue(), fc.constant([])), weight: 1 },
);

/** Drops the keys whose generated value is `undefined`, as JSON would. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null');

/**
 * The parser's answer once each URL it refused as naming no page (a string the schema allows) is
 * replaced by `/`, so that the events after it are judged too; each outcome is counted in `seen`.
 */
function parseWithPageUrls(value: unknown, seen: Map<string, number>): ReturnType<typeof parseEventsBody> {
  let body = value;
  for (;;) {
    const parsed = parseEventsBody(body);
    const outcome = parsed.ok ? 'accepted' : parsed.error.code;
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    if (parsed.ok || parsed.error.code !== 'DL_INVALID_URL') return parsed;
    const at = Number(/^events\[(\d+)\]\.url/.exec(parsed.error.message)?.[1]);
    const copy = structuredClone(body) as { events: Array<Record<string, unknown>> };
    const event = copy.events[at];
    if (!event) throw new Error(`DL_INVALID_URL names no event: ${parsed.error.message}`);
    event.url = '/';
    body = copy;
  }
}

describe('the documented events schema and the parser', () => {
  it('accept and refuse the same bodies (but for a URL that names no page, which only the parser can tell)', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(body, (generated) => {
        const value = asJson(generated);
        const documented = validate(value);
        const parsed = parseWithPageUrls(value, seen);
        if (parsed.ok) {
          expect(
            documented,
            `the schema refuses what the parser accepts: ${JSON.stringify(validate.errors)}`,
          ).toBe(true);
        } else {
          expect(documented, `the schema accepts what the parser refuses: ${parsed.error.message}`).toBe(
            false,
          );
        }
      }),
      { numRuns: 5_000 },
    );
    // Both sides of each rule were met: every refusal code, and acceptance.
    for (const code of [
      'accepted',
      'DL_INVALID_BODY',
      'DL_NO_EVENTS',
      'DL_TOO_MANY_EVENTS',
      'DL_INVALID_EVENT',
      'DL_EVENT_TYPE_REFUSED',
      'DL_INVALID_URL',
    ]) {
      expect(seen.get(code) ?? 0, code).toBeGreaterThan(20);
    }
  });
});
