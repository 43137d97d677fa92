/**
 * What is kept of a URL (docs/protocol.md, HTTP API): no fragment, no query parameters but the
 * allowlisted ones, and of a referrer only its origin. What the collector stores is also normalised
 * (`storedPageUrl`, `storedReferrer`): well-formed, each kept query value and the whole cut to limits.
 */
import { MAX_QUERY_VALUE_LENGTH, normaliseText, type OnNormalised } from './text-normalisation.js';

/** Longest URL or referrer stored, characters (longer ones are cut). */
export const MAX_URL_LENGTH = 2048;
/**
 * Longest host name of a page URL, characters (DNS's limit, RFC 1035): a longer one names no page.
 * It also keeps the cut of a long URL in its path or query, past its origin.
 */
export const MAX_HOST_LENGTH = 253;
/** Query parameters kept by default (`QUERY_ALLOWLIST`). */
export const DEFAULT_QUERY_ALLOWLIST: readonly string[] = [
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
];

const BASE = 'http://relative.invalid';

function parse(raw: string): URL | null {
  try {
    const url = new URL(raw, BASE);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * The kept form of a parsed URL, `origin` its origin (read once: each read of `url.origin` serializes
 * it again), each kept value cut to `valueLimit` (decoded values are well-formed already: the URL
 * parser wrote a lone surrogate as U+FFFD).
 */
function keptForm(
  url: URL,
  origin: string,
  allowlist: readonly string[],
  valueLimit = Number.POSITIVE_INFINITY,
  onNormalised?: OnNormalised,
): string {
  // Made only when a parameter is kept: most page URLs keep none.
  let kept: URLSearchParams | undefined;
  if (url.search !== '') {
    for (const [k, v] of url.searchParams) {
      if (!allowlist.includes(k)) continue;
      kept ??= new URLSearchParams();
      kept.append(k, v.length > valueLimit ? normaliseText(v, valueLimit, k, onNormalised) : v);
    }
  }
  const query = kept ? `?${kept}` : '';
  return `${origin === BASE ? '' : origin}${url.pathname}${query}`;
}

/** True when the URL's host is longer than DNS allows (read only when the origin could hold one). */
function hostTooLong(url: URL, origin: string): boolean {
  return origin.length > MAX_HOST_LENGTH + 'http://'.length && url.hostname.length > MAX_HOST_LENGTH;
}

/**
 * The kept form of a page URL, or `null` when it is not an http(s) URL or a path.
 * A path (`/pricing?x=1`) stays a path.
 */
export function sanitizeUrl(
  raw: string,
  allowlist: readonly string[] = DEFAULT_QUERY_ALLOWLIST,
): string | null {
  const url = parse(raw);
  return url ? keptForm(url, url.origin, allowlist) : null;
}

/** A referrer reduced to its origin, or `null` when it has none (a path, or not http(s)). */
export function referrerOrigin(raw: string): string | null {
  const url = parse(raw);
  return url && url.origin !== BASE ? url.origin : null;
}

/**
 * The stored form of a page URL: the kept form of its well-formed text, each kept query value cut to
 * 256 code units and the whole to 2,048 characters. A stored form is its own kept form (a host app's
 * `track()` sanitizes it again and gets it unchanged). Null when it is not an http(s) URL or a path,
 * or its host is longer than 253 characters.
 *
 * @example
 * storedPageUrl('/p?utm_source=x&token=secret#frag', ['utm_source']); // '/p?utm_source=x'
 */
export function storedPageUrl(
  raw: string,
  allowlist: readonly string[] = DEFAULT_QUERY_ALLOWLIST,
  onNormalised?: OnNormalised,
): string | null {
  // The URL parser would write a lone surrogate as U+FFFD too; this counts it.
  const url = parse(normaliseText(raw, Number.POSITIVE_INFINITY, 'url', onNormalised));
  if (url === null) return null;
  const origin = url.origin;
  if (hostTooLong(url, origin)) return null;
  let kept = keptForm(url, origin, allowlist, MAX_QUERY_VALUE_LENGTH, onNormalised);
  // A relative path that starts with `//` reads as another host when parsed again: store that reading.
  if (kept.startsWith('//')) kept = sanitizeUrl(kept, allowlist) ?? kept;
  if (kept.length <= MAX_URL_LENGTH) return kept;
  onNormalised?.('url', 'too_long');
  return cutUrl(kept, allowlist);
}

/**
 * A kept form longer than the limit, cut so that it stays its own kept form: never inside a `%XX`
 * escape, and parsed again (a cut key drops, a trailing `&` goes). The origin is at most about 270
 * characters, so the cut lands in the path or the query.
 */
function cutUrl(kept: string, allowlist: readonly string[]): string {
  let budget = MAX_URL_LENGTH;
  let out = kept;
  while (out.length > MAX_URL_LENGTH) {
    let end = budget;
    const percent = kept.lastIndexOf('%', end - 1);
    if (percent > end - 3) end = percent;
    out = sanitizeUrl(kept.slice(0, end), allowlist) ?? kept.slice(0, end);
    // Parsed again, a cut can grow by a character (`utm_source` becomes `utm_source=`): cut shorter.
    budget -= Math.max(1, out.length - MAX_URL_LENGTH);
  }
  return out;
}

/**
 * The stored form of a referrer: the origin of its well-formed text cut to 2,048 characters, or null
 * when it has none (a path, not http(s), a host longer than 253 characters).
 *
 * @example
 * storedReferrer('https://news.example/story?id=1'); // 'https://news.example'
 */
export function storedReferrer(raw: string, onNormalised?: OnNormalised): string | null {
  const url = parse(normaliseText(raw, MAX_URL_LENGTH, 'referrer', onNormalised));
  if (url === null) return null;
  const origin = url.origin;
  return origin !== BASE && !hostTooLong(url, origin) ? origin : null;
}
