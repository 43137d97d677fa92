import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_REQUEST, parseEventsBody, parseJsonText } from './events.js';
import { isConsentDenied } from './names.js';
import { referrerOrigin, sanitizeUrl } from './url-rules.js';

const pv = (extra: Record<string, unknown> = {}) => ({
  type: 'pageview',
  url: 'https://shop.example/a',
  ...extra,
});

describe('events body parser', () => {
  it('accepts a beacon body as text with the device id and consent inside', () => {
    const r = parseEventsBody(
      JSON.stringify({
        deviceId: 'a3f1c2d4e5b6978812ab34cd56ef7890',
        events: [pv({ id: '0189A1B2-C3D4-7000-8000-000000000001', ts: 5 })],
      }),
    );
    expect(r).toEqual({
      ok: true,
      value: {
        deviceId: 'a3f1c2d4e5b6978812ab34cd56ef7890',
        consentDenied: false,
        events: [
          {
            type: 'pageview',
            url: 'https://shop.example/a',
            referrer: null,
            id: '0189a1b2-c3d4-7000-8000-000000000001',
            clientTs: 5,
          },
        ],
      },
    });
  });

  it('drops an invalid body deviceId instead of refusing the events', () => {
    const r = parseEventsBody({ deviceId: 'null', events: [pv()] });
    expect(r.ok && r.value.deviceId).toBe(null);
  });

  it('reads consent denied from the body', () => {
    const r = parseEventsBody({ consent: 'denied', events: [pv()] });
    expect(r.ok && r.value.consentDenied).toBe(true);
  });

  it.each(['Denied', 'DENIED', ' denied '])(
    'reads body consent %j as denied, without case like the header',
    (consent) => {
      const r = parseEventsBody({ consent, events: [pv()] });
      expect(r.ok && r.value.consentDenied).toBe(true);
      expect(isConsentDenied(consent)).toBe(true);
    },
  );

  it.each(['granted', 'deny', '', 'denied-ish'])('does not read consent %j as denied', (consent) => {
    expect(isConsentDenied(consent)).toBe(false);
  });

  it.each([
    ['__proto__ at the top', '{"__proto__":{"polluted":1},"events":[]}'],
    ['__proto__ in an event', '{"events":[{"type":"pageview","url":"/","__proto__":{"x":1}}]}'],
    ['constructor.prototype', '{"constructor":{"prototype":{"x":1}},"events":[]}'],
    ['constructor.prototype deep', '{"events":[{"a":{"constructor":{"prototype":null}}}]}'],
  ])('refuses a text body with %s, as the JSON parser does', (_name, text) => {
    const r = parseEventsBody(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('DL_INVALID_BODY');
    expect(parseJsonText(text).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts a constructor key without a prototype inside (as secure-json-parse does)', () => {
    expect(parseJsonText('{"constructor":{"name":"x"}}').ok).toBe(true);
  });

  it('refuses any JSON document once a __proto__ key is nested in it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(5), (value, depth) => {
        let poisoned = '{"__proto__":{"x":1}}';
        for (let i = 0; i < depth; i++) poisoned = `{"k${i}":${poisoned}}`;
        const text = `{"a":${JSON.stringify(value)},"b":${poisoned}}`;
        expect(parseJsonText(text).ok).toBe(false);
      }),
    );
  });

  it.each([
    ['not JSON', '{nope', 'DL_INVALID_BODY'],
    ['an array', [], 'DL_INVALID_BODY'],
    ['no events', {}, 'DL_INVALID_BODY'],
    ['zero events', { events: [] }, 'DL_NO_EVENTS'],
    [
      '101 events',
      { events: Array.from({ length: MAX_EVENTS_PER_REQUEST + 1 }, () => pv()) },
      'DL_TOO_MANY_EVENTS',
    ],
    ['an internal record type', { events: [pv({ type: 'link' })] }, 'DL_EVENT_TYPE_REFUSED'],
    ['an unknown type', { events: [pv({ type: 'purchase' })] }, 'DL_EVENT_TYPE_REFUSED'],
    ['a javascript: URL', { events: [pv({ url: 'javascript:alert(1)' })] }, 'DL_INVALID_URL'],
    [
      'a URL whose host is over 253 characters',
      { events: [pv({ url: `https://${'a'.repeat(254)}/` })] },
      'DL_INVALID_URL',
    ],
    ['a non-UUID id', { events: [pv({ id: 'abc' })] }, 'DL_INVALID_EVENT'],
    [
      'the nil UUID as id',
      { events: [pv({ id: '00000000-0000-0000-0000-000000000000' })] },
      'DL_INVALID_EVENT',
    ],
    [
      'the max UUID as id',
      { events: [pv({ id: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF' })] },
      'DL_INVALID_EVENT',
    ],
    ['a string ts', { events: [pv({ ts: '1' })] }, 'DL_INVALID_EVENT'],
    ['a numeric referrer', { events: [pv({ referrer: 7 })] }, 'DL_INVALID_EVENT'],
  ])('refuses %s with a message', (_name, body, code) => {
    const r = parseEventsBody(body);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(5);
    }
  });

  it('keeps an over-long or ill-formed URL and referrer, normalised, and says what it did', () => {
    const told: string[] = [];
    const r = parseEventsBody(
      {
        events: [
          pv({
            url: `https://a.example/${'x'.repeat(10_000)}`,
            referrer: `https://r.example/${'y'.repeat(3_000)}`,
          }),
          pv({ url: `/${'\u{1f600}'.repeat(700)}`, referrer: 'https://r.example/\ud800' }),
          pv({ url: '/a\udc00b' }),
        ],
      },
      { onNormalised: (field, what) => told.push(`${field} ${what}`) },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [long, emoji, lone] = r.value.events;
    expect(long?.url).toBe(`https://a.example/${'x'.repeat(2048 - 'https://a.example/'.length)}`);
    expect(long?.referrer).toBe('https://r.example');
    // Emoji of 12 percent-encoded characters each after the slash: the cut never splits an escape.
    expect(emoji?.url).toBe(`/${'%F0%9F%98%80'.repeat(170)}%F0%9F`);
    expect(emoji?.url.length).toBeLessThanOrEqual(2048);
    expect(lone?.url).toBe('/a%EF%BF%BDb');
    expect(told).toEqual([
      'url too_long',
      'referrer too_long',
      'url too_long',
      'referrer ill_formed',
      'url ill_formed',
    ]);
  });

  it('names the offending event in its message', () => {
    const r = parseEventsBody({ events: [pv(), pv({ url: 5 })] });
    expect(!r.ok && r.error.message).toContain('events[1].url');
  });

  it('says why a constant event id is refused', () => {
    const r = parseEventsBody({ events: [pv({ id: '11111111-1111-1111-1111-111111111111' })] });
    expect(!r.ok && r.error.message).toBe(
      'events[0].id is the nil UUID or another constant id (one hex digit repeated); send a fresh UUIDv7 per event',
    );
  });

  it('refuses every constant id and accepts every id with two different digits', () => {
    fc.assert(
      fc.property(fc.constantFrom(...'0123456789abcdef'), (digit) => {
        const id = `${digit.repeat(8)}-${digit.repeat(4)}-${digit.repeat(4)}-${digit.repeat(4)}-${digit.repeat(12)}`;
        expect(parseEventsBody({ events: [pv({ id })] }).ok).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        expect(parseEventsBody({ events: [pv({ id })] }).ok).toBe(true);
      }),
    );
  });

  it('counts the same event id twice in one batch once', () => {
    const id = '0189a1b2-c3d4-7000-8000-000000000001';
    const r = parseEventsBody({ events: [pv({ id }), pv({ id })] });
    expect(r.ok && r.value.events.length).toBe(1);
  });

  it('never throws and only ever yields sanitized page views, whatever JSON it is given', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.string(),
          fc.record({ events: fc.array(fc.jsonValue(), { maxLength: 5 }) }),
        ),
        (v) => {
          const r = parseEventsBody(v);
          if (r.ok) {
            for (const e of r.value.events) {
              expect(e.type).toBe('pageview');
              expect(e.url).not.toContain('#');
            }
          } else expect(r.error.code).toMatch(/^DL_/);
        },
      ),
    );
  });

  it('accepts every well-formed page view it is given', () => {
    fc.assert(
      fc.property(
        fc.webUrl({ withFragments: true, withQueryParameters: true }),
        fc.option(fc.uuid()),
        (url, id) => {
          const r = parseEventsBody({ events: [pv({ url, ...(id ? { id } : {}) })] });
          expect(r.ok).toBe(true);
        },
      ),
    );
  });
});

describe('URL rules', () => {
  it('drops the fragment and every query parameter but the allowlisted ones', () => {
    expect(sanitizeUrl('https://a.example/p?utm_source=x&token=secret&utm_medium=y#frag')).toBe(
      'https://a.example/p?utm_source=x&utm_medium=y',
    );
    expect(sanitizeUrl('https://a.example/p?q=1', ['q'])).toBe('https://a.example/p?q=1');
    expect(sanitizeUrl('/pricing?email=a@b.c#x')).toBe('/pricing');
  });

  it('reduces a referrer to its origin', () => {
    expect(referrerOrigin('https://news.example:8443/story/1?ref=abc#c')).toBe('https://news.example:8443');
    expect(referrerOrigin('/relative')).toBeNull();
  });
});
