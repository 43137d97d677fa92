/**
 * What of a page URL leaves the browser (docs/protocol.md, HTTP API): no fragment (it may hold an OAuth
 * `#access_token`), no query parameter outside the allowlist, nothing but an http(s) URL or a path, and
 * nothing over 2,048 characters (the collector would store it cut). The collector applies
 * the same rules with the protocol's `sanitizeUrl`; page-url.test.ts checks on generated URLs that the
 * two agree, so the SDK never sends what the collector would store differently or refuse.
 */
import { DEFAULT_QUERY_ALLOWLIST, MAX_URL_LENGTH } from '@devicelink/protocol';
import { attempt } from './attempt.js';

/**
 * A base that cannot be a real page (`.invalid`, RFC 2606): a path resolved against it stays a path.
 * The protocol's `sanitizeUrl` uses the same one, so both treat even this URL given in full alike.
 */
export const PLACEHOLDER_BASE = 'http://relative.invalid';

/** The form of `raw` that is sent, or null when it must not be sent at all. */
export function pageUrl(raw: string, allowlist: readonly string[] = DEFAULT_QUERY_ALLOWLIST): string | null {
  return (
    attempt(() => {
      const url = new URL(raw, PLACEHOLDER_BASE);
      // Serialized again even when all are kept: the collector stores the serialized form.
      const query = `${new URLSearchParams([...url.searchParams].filter(([key]) => allowlist.includes(key)))}`;
      // The origin drops user:password@ too; the pathname and query are percent-encoded by the URL API.
      const clean =
        (url.origin === PLACEHOLDER_BASE ? '' : url.origin) + url.pathname + (query && `?${query}`);
      return /^https?:$/.test(url.protocol) && clean.length <= MAX_URL_LENGTH ? clean : null;
    }) ?? null
  );
}
