import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cutText,
  MAX_QUERY_VALUE_LENGTH,
  MAX_USER_AGENT_LENGTH,
  type Normalisation,
  storedUserAgent,
} from './text-normalisation.js';
import { MAX_URL_LENGTH, sanitizeUrl, storedPageUrl, storedReferrer } from './url-rules.js';

const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];
const isLoneSurrogate = (c: string) => /^[\ud800-\udfff]$/.test(c);
/** Text with lone surrogates, 4-byte characters, escapes and URL delimiters among plain characters. */
const nasty = (maxLength: number, minLength = 0) =>
  fc.string({
    unit: fc.oneof(
      { arbitrary: fc.constantFrom('a', 'Z', '0', '-', '.', '/'), weight: 6 },
      {
        arbitrary: fc.constantFrom(
          '\ud800',
          '\udfff',
          '\u{1f600}',
          '\u{10ffff}',
          'é',
          '%',
          '%F0',
          '%2e',
          '&',
          '=',
          '#',
          '?',
          ' ',
          '+',
        ),
        weight: 3,
      },
      { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 1 },
    ),
    minLength,
    maxLength,
  });
const pageUrl = fc
  .tuple(
    fc.constantFrom('', 'https://shop.test', 'http://例え.テスト:8080', 'https://[::1]'),
    fc.oneof(nasty(40), nasty(3_000, 1_900)),
    fc.array(fc.tuple(fc.constantFrom(...UTM, 'token'), fc.oneof(nasty(20), nasty(600, 200))), {
      maxLength: 4,
    }),
  )
  .map(
    ([origin, path, query]) =>
      `${origin}/${path}${query.length ? '?' : ''}${query.map(([k, v]) => `${k}=${v}`).join('&')}`,
  );

describe('text normalisation', () => {
  it('cuts text to its limit without ever splitting a surrogate pair', () => {
    expect(cutText('ab\u{1f600}c', 3)).toBe('ab');
    expect(cutText('ab\u{1f600}c', 4)).toBe('ab\u{1f600}');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.nat(80), (s, max) => {
        const cut = cutText(s, max);
        expect(cut.length).toBeLessThanOrEqual(max);
        expect(cut.length).toBeGreaterThanOrEqual(Math.min(s.length, max) - 1);
        expect(s.startsWith(cut)).toBe(true);
        expect(cut.isWellFormed()).toBe(true);
      }),
    );
  });

  it('stores a user agent well-formed and at most 512 code units, and says what it did', () => {
    fc.assert(
      fc.property(fc.oneof(nasty(40), nasty(700, 400)), (ua) => {
        const told: Normalisation[] = [];
        const stored = storedUserAgent(ua, (field, what) => {
          expect(field).toBe('user_agent');
          told.push(what);
        });
        expect(stored?.isWellFormed()).toBe(true);
        expect(stored?.length).toBeLessThanOrEqual(MAX_USER_AGENT_LENGTH);
        expect(told.includes('ill_formed')).toBe(!ua.isWellFormed());
        expect(told.includes('too_long')).toBe(ua.toWellFormed().length > MAX_USER_AGENT_LENGTH);
        if (told.length === 0) expect(stored).toBe(ua);
      }),
    );
    expect(storedUserAgent(undefined)).toBeNull();
  });

  it('stores any page URL well-formed, within its limits, and as its own kept form', () => {
    fc.assert(
      fc.property(pageUrl, (raw) => {
        const told: string[] = [];
        const stored = storedPageUrl(raw, UTM, (field, what) => told.push(`${field} ${what}`));
        if (stored === null) return;
        expect(stored.length).toBeLessThanOrEqual(MAX_URL_LENGTH);
        expect([...stored].some(isLoneSurrogate)).toBe(false);
        // A host app's track() sanitizes what the parser stored: it must get it back unchanged.
        expect(sanitizeUrl(stored, UTM)).toBe(stored);
        const query = new URL(stored, 'http://x.invalid').searchParams;
        for (const [, v] of query) expect(v.length).toBeLessThanOrEqual(MAX_QUERY_VALUE_LENGTH);
        expect(told.includes('url ill_formed')).toBe(!raw.isWellFormed());
        // Untouched unless told: then it is the plain kept form.
        if (told.length === 0) expect(stored).toBe(sanitizeUrl(raw, UTM));
      }),
      { numRuns: 300 },
    );
  });

  it('cuts a long URL in its path, and a long kept value, and says so', () => {
    const told: string[] = [];
    const long = `https://shop.test/${'p'.repeat(3_000)}`;
    expect(storedPageUrl(long, UTM, (f, w) => told.push(`${f} ${w}`))).toBe(long.slice(0, MAX_URL_LENGTH));
    const value = `${'v'.repeat(255)}\u{1f600}`;
    expect(storedPageUrl(`/p?utm_term=${value}&token=x`, UTM, (f, w) => told.push(`${f} ${w}`))).toBe(
      `/p?utm_term=${'v'.repeat(255)}`,
    );
    expect(told).toEqual(['url too_long', 'utm_term too_long']);
  });

  it('cuts a URL right after a kept key to a form that does not grow when parsed again', () => {
    // Cut at 2,048 this ends in `&utm_source`, which parses again as `utm_source=` (2,049).
    const path = `/${'p'.repeat(2_025)}`;
    const stored = storedPageUrl(`${path}?utm_term=x&utm_source=abc`, UTM);
    expect(stored).toBe(`${path}?utm_term=x`);
  });

  it('keeps a page URL that is not one refused, and a referrer that is not one as none', () => {
    expect(storedPageUrl('javascript:alert(1)')).toBeNull();
    expect(storedPageUrl(`https://${'h'.repeat(254)}/`)).toBeNull();
    expect(storedReferrer('javascript:alert(1)')).toBeNull();
    expect(storedReferrer(`https://${'h'.repeat(254)}/`)).toBeNull();
    expect(storedReferrer(`https://news.test/${'\ud800'.repeat(5_000)}`)).toBe('https://news.test');
  });
});
