/**
 * What is kept of a URL (docs/protocol.md, HTTP API): no fragment, no query parameters but the
 * allowlisted ones, and of a referrer only its origin.
 */

/** Longest URL or referrer accepted, characters. */
export const MAX_URL_LENGTH = 2048;
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
 * The stored form of a page URL, or `null` when it is not an http(s) URL or a path.
 * A path (`/pricing?x=1`) stays a path.
 */
export function sanitizeUrl(
  raw: string,
  allowlist: readonly string[] = DEFAULT_QUERY_ALLOWLIST,
): string | null {
  const url = parse(raw);
  if (!url) return null;
  const kept = new URLSearchParams();
  for (const [key, value] of url.searchParams) if (allowlist.includes(key)) kept.append(key, value);
  const query = kept.size > 0 ? `?${kept}` : '';
  const relative = url.origin === BASE;
  return `${relative ? '' : url.origin}${url.pathname}${query}`;
}

/** A referrer reduced to its origin, or `null` when it has none (a path, or not http(s)). */
export function referrerOrigin(raw: string): string | null {
  const url = parse(raw);
  return url && url.origin !== BASE ? url.origin : null;
}
