/**
 * Free text a client sends and the collector stores (URLs, referrers, user agents, kept query values)
 * is normalised rather than refused (docs/protocol.md, HTTP API): ill-formed UTF-16 (a lone surrogate)
 * becomes U+FFFD, and a value over its limit is cut at the limit, never between the two halves of a
 * surrogate pair. Identity strings (`sub`, user and device ids) are not free text: they are refused.
 */

/** Longest User-Agent stored, UTF-16 code units (longer ones are junk or abuse). */
export const MAX_USER_AGENT_LENGTH = 512;
/** Longest value of a kept query parameter (`utm_*`), UTF-16 code units of its decoded text. */
export const MAX_QUERY_VALUE_LENGTH = 256;

/** What was done to a field: lone surrogates replaced, or the value cut at its limit. */
export type Normalisation = 'ill_formed' | 'too_long';

/**
 * Told of each normalisation: `field` is `url`, `referrer`, `user_agent`, or the name of a kept query
 * parameter (`utm_source`, …) whose value was cut. For a metric; never called for untouched values.
 */
export type OnNormalised = (field: string, what: Normalisation) => void;

/**
 * `text` cut to at most `max` UTF-16 code units, never between the two halves of a surrogate pair (the
 * high half is dropped with its low half).
 *
 * @example
 * cutText('ab\u{1f600}', 3); // 'ab'
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/**
 * `text` well-formed (each lone surrogate as U+FFFD) and cut to `max` code units; each change is told to
 * `onNormalised` under `field`.
 *
 * @example
 * normaliseText('a\ud800', 10, 'user_agent'); // 'a\ufffd'
 */
export function normaliseText(text: string, max: number, field: string, onNormalised?: OnNormalised): string {
  let out = text;
  if (!out.isWellFormed()) {
    out = out.toWellFormed();
    onNormalised?.(field, 'ill_formed');
  }
  if (out.length > max) {
    out = cutText(out, max);
    onNormalised?.(field, 'too_long');
  }
  return out;
}

/**
 * The stored form of a request's `User-Agent` (its first value), or null without one.
 *
 * @example
 * storedUserAgent(request.headers['user-agent']); // at most 512 code units, well-formed
 */
export function storedUserAgent(userAgent: string | undefined, onNormalised?: OnNormalised): string | null {
  if (userAgent === undefined) return null;
  return normaliseText(userAgent, MAX_USER_AGENT_LENGTH, 'user_agent', onNormalised);
}
