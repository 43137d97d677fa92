import { MAX_URL_LENGTH, sanitizeUrl } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { pageUrl } from './page-url.js';

// The protocol's rule with the length limit the collector applies to what it is sent.
const collectorForm = (raw: string, allowlist?: readonly string[]) => {
  const clean = sanitizeUrl(raw, allowlist);
  return clean !== null && clean.length <= MAX_URL_LENGTH ? clean : null;
};

// Parameter names that are and are not allowlisted, some needing encoding, some repeated.
const keys = fc.constantFrom(
  'utm_source',
  'utm_medium',
  'utm_term',
  'q',
  'token',
  'a b',
  'é',
  '',
  'x+y',
  '%41',
);
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const query = fc
  .array(fc.tuple(keys, fc.oneof(text, fc.constantFrom('', '=', '&', '#', '%', '%2', '+'))), { maxLength: 6 })
  .map((params) => (params.length ? `?${params.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
const fragment = fc.option(
  text.map((t) => `#${t}`),
  { nil: '' },
);
const start = fc.oneof(
  fc.webUrl({ withQueryParameters: false, withFragments: false }),
  fc.webUrl({ authoritySettings: { withUserInfo: true, withPort: true } }),
  fc.constantFrom('', '/', '/pricing', 'relative/path', '//cdn.example/x', 'http://relative.invalid/p'),
  fc.constantFrom('javascript:alert(1)', 'data:text/html,x', 'mailto:a@b.c', 'ftp://f.example/x', 'http://'),
  fc.constantFrom('https://a.example/', 'HTTPS://A.EXAMPLE:443/P', 'https://user:pw@a.example/p/../q'),
  text,
);
const urls = fc.tuple(start, query, fragment).map(([s, q, f]) => s + q + f);
const allowlists = fc.option(fc.subarray(['utm_source', 'utm_medium', 'q', 'a b', 'é', '', 'x y', 'A']), {
  nil: undefined,
});

describe('pageUrl', () => {
  test('agrees with the protocol sanitizeUrl (and its 2,048-character rule) on generated URLs and allowlists', () => {
    fc.assert(
      fc.property(urls, allowlists, (raw, allowlist) => {
        expect(pageUrl(raw, allowlist)).toBe(collectorForm(raw, allowlist));
      }),
      { numRuns: 2000 },
    );
  });

  test('agrees on any string, and what it sends the collector keeps as it is', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true })),
        (raw) => {
          const clean = pageUrl(raw);
          expect(clean).toBe(collectorForm(raw));
          if (clean !== null) expect(sanitizeUrl(clean)).toBe(clean);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('a URL is dropped when what is left is over 2,048 characters, and kept at exactly 2,048', () => {
    const at = (n: number) => `https://a.example/${'p'.repeat(n - 'https://a.example/'.length)}`;
    expect(pageUrl(`${at(MAX_URL_LENGTH)}?token=secret#frag`)).toBe(at(MAX_URL_LENGTH));
    expect(pageUrl(at(MAX_URL_LENGTH + 1))).toBeNull();
  });

  test('drops the fragment and the parameters outside the allowlist, keeps a path a path', () => {
    expect(pageUrl('https://a.example/p?utm_source=x&token=s&utm_medium=y#access_token=t')).toBe(
      'https://a.example/p?utm_source=x&utm_medium=y',
    );
    expect(pageUrl('/pricing?email=a@b.c#x')).toBe('/pricing');
    expect(pageUrl('/search?q=a b', ['q'])).toBe('/search?q=a+b');
    expect(pageUrl('javascript:alert(1)')).toBeNull();
  });
});
