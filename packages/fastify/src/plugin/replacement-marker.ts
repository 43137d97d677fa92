/**
 * The replacement marker (docs/protocol.md, Replacement marker): after `reset()`, `forget()` or a
 * re-grant the SDK sends its new id with `X-Device-Replaces: <old id>` so that every host keeping
 * `device_fp` moves its cookie to the new id without tying the two people together. Read here from
 * what the request carried; the tiers and the store decide the rest.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { toDeviceId } from '@devicelink/protocol';
import type { ReplaceInput } from '../store/device-store.js';
import { firstValue, headerFresh } from './request-signals.js';

/** What a request carried of a marker. */
export interface MarkerInput {
  /** The marker's value: the header's, else a body `replaces` field; undefined when none was carried. */
  id: unknown;
  /**
   * The marker may replace the cookie: it came in the header (a beacon or a form cannot set one) on a
   * request whose content type is not CORS-simple (a same-site `text/plain` POST is not enough).
   */
  eligible: boolean;
}

// The content types a form or `navigator.sendBeacon` sends without a CORS preflight (Fetch standard,
// CORS-safelisted request-header `Content-Type`).
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/** True when the request's content type is one a simple (unpreflighted) request may carry. */
export function simpleContentType(headers: IncomingHttpHeaders): boolean {
  const type = firstValue(headers['content-type']);
  if (type === undefined) return false;
  return SIMPLE_TYPES.has(type.split(';', 1)[0]!.trim().toLowerCase());
}

/**
 * The marker of a request: the header (`X-Device-Replaces`), else the body's `replaces` field (which
 * is never eligible: only a request that could set a header may move a cookie).
 *
 * @example
 * replacementMarker({ 'x-device-replaces': 'old…', 'content-type': 'application/json' }, undefined)
 * // { id: 'old…', eligible: true }
 */
export function replacementMarker(headers: IncomingHttpHeaders, bodyReplaces: unknown): MarkerInput {
  const header = firstValue(headers['x-device-replaces']);
  if (header !== undefined && header !== '') {
    return { id: header.trim(), eligible: !simpleContentType(headers) };
  }
  if (bodyReplaces !== undefined && bodyReplaces !== null) return { id: bodyReplaces, eligible: false };
  return { id: undefined, eligible: false };
}

/**
 * The replacement a request's headers alone ask for: an eligible marker equal to the valid cookie, and
 * a different, non-fresh, valid `X-Device-Fingerprint`. Null otherwise. Judged before the body is
 * read or a handler runs (a login that converts the new id first would make it known).
 */
export function headerReplacement(headers: IncomingHttpHeaders, cookie: unknown): ReplaceInput | null {
  const marker = replacementMarker(headers, undefined);
  const deviceId = toDeviceId(headers['x-device-fingerprint']);
  const replacedId = toDeviceId(cookie);
  if (!marker.eligible || headerFresh(headers) || deviceId === null || replacedId === null) return null;
  return deviceId !== replacedId && toDeviceId(marker.id) === replacedId ? { deviceId, replacedId } : null;
}
