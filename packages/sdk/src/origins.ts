/**
 * Which requests may carry the device header and have their echo adopted: the app's own origin, the
 * request's `baseURL` origin and the configured origins (docs/protocol.md, SDK). Never a third
 * party: the id is a tracking identifier and must not leak to other sites.
 */
import { attempt } from './attempt.js';
import { PLACEHOLDER_BASE } from './page-url.js';

/**
 * Origin of `url` resolved against `base` (itself resolved against the page), or null when unparseable.
 * Neither given: the page's own origin. Where there is no page (server-side rendering) a placeholder
 * stands in for its origin, so a relative URL is still the app's own.
 */
export function originOf(url?: string, base?: string): string | null {
  return (
    attempt(
      () => new URL(url ?? '', new URL(base ?? '', globalThis.location?.href || PLACEHOLDER_BASE)).origin,
    ) ?? null
  );
}

/**
 * Builds the check for one DeviceLink: `allowed(url, baseURL)` is true when the request goes to the
 * page's origin, to its baseURL's origin, or to one of `extra` (full URLs or bare origins).
 */
export function createOriginCheck(extra: readonly string[]): (url?: string, baseURL?: string) => boolean {
  const listed = new Set(extra.map((o) => originOf(o)));
  return (url, baseURL) => {
    const target = originOf(url, baseURL);
    return target !== null && (target === originOf() || target === originOf(baseURL) || listed.has(target));
  };
}
