/**
 * Per-request device state: what the `onRequest` hook learned (route opted in, consent headers, the
 * bearer token's user, the cookie) and the memoised result of the tiers (tier 1, the request cache).
 */
import { DEVICE_COOKIE } from '@devicelink/protocol';
import type { FastifyRequest } from 'fastify';
import type { DeviceStore, ReplaceInput } from '../store/device-store.js';
import type { LimitState } from '../store/rate-limits.js';
import { resolveTiers, type TierResult } from './device-id-tiers.js';
import { headerReplacement, replacementMarker } from './replacement-marker.js';
import { bodySignals, headerFresh } from './request-signals.js';

/** Request slot of the state; a symbol so it cannot clash with an app's decorators. */
export const kDeviceState = Symbol('devicelink.state');

/** What the plugin knows about one request. */
export interface DeviceState {
  /** Device work may apply: the route opted in and the method is neither OPTIONS nor HEAD. */
  tracking: boolean;
  /** Consent denied by header, GPC or (once read) the body. */
  consentDenied: boolean;
  /** User id of a valid bearer token; `undefined` until the `onRequest` hook has checked. */
  userId: string | null | undefined;
  /** Raw `device_fp` cookie as received (undefined when none was sent). */
  cookie: string | undefined;
  /** Tier result: `undefined` before the first lookup, null when no device work applies. */
  resolved: TierResult | null | undefined;
  /** The edge of a client id/cookie mismatch (or the minted id) was handed to the store. */
  edgeRecorded: boolean;
  /** The store was told this request's id was just minted (`noteMinted`). */
  mintedNoted: boolean;
  /** The store's answer to the request's replacement marker (asked once), when it had one to ask. */
  replacement: Promise<boolean> | undefined;
  /** `track()` ran for this request (so `trackRequests` does not count it twice). */
  tracked: boolean;
  /** The rate limit `track()` counted, for the answer's headers; null when none was counted. */
  limit: { state: LimitState; refused: boolean } | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    [kDeviceState]: DeviceState | null;
  }
}

/** A fresh state for a request that is not tracked (yet). */
export function untrackedState(): DeviceState {
  return {
    tracking: false,
    consentDenied: false,
    userId: undefined,
    cookie: undefined,
    resolved: undefined,
    edgeRecorded: false,
    mintedNoted: false,
    replacement: undefined,
    tracked: false,
    limit: null,
  };
}

/**
 * The raw `device_fp` cookie: from `request.cookies` when @fastify/cookie already parsed the header
 * (its onRequest hook runs first), else parsed here; a malformed header is no cookie.
 */
export function readDeviceCookie(request: FastifyRequest): string | undefined {
  const parsed = (request as { cookies?: Record<string, string | undefined> }).cookies;
  if (parsed !== undefined && parsed !== null) {
    const value = parsed[DEVICE_COOKIE];
    return typeof value === 'string' ? value : undefined;
  }
  const header = request.headers.cookie;
  if (typeof header !== 'string' || header === '') return undefined;
  const parse = (request.server as { parseCookie?: (h: string) => Record<string, string> }).parseCookie;
  if (typeof parse !== 'function') return undefined;
  try {
    const value = parse.call(request.server, header)[DEVICE_COOKIE];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tier 1 and the tiers below it: the memoised result, or runs the lookup once. Null when no device
 * work applies (untracked route, consent denied, authenticated user). Reads the body when it is
 * already parsed, so read it from a handler or `preHandler` to honour a beacon's `deviceId`.
 */
export function resolveDevice(request: FastifyRequest): TierResult | null {
  const state = request[kDeviceState];
  if (!state?.tracking) return null;
  if (state.resolved !== undefined) return state.resolved;
  // Read before our onRequest hook finished (an app hook registered earlier): the answer is not
  // known yet, so say "none" without memoising.
  if (state.userId === undefined && !state.consentDenied) return null;
  state.resolved = lookup(request, state);
  return state.resolved;
}

function lookup(request: FastifyRequest, state: DeviceState): TierResult | null {
  if (state.consentDenied) return null;
  const body = bodySignals(request.body);
  if (body.consentDenied) {
    state.consentDenied = true;
    return null;
  }
  if (state.userId) return null;
  return resolveTiers({
    header: request.headers['x-device-fingerprint'],
    bodyDeviceId: body.deviceId,
    cookie: state.cookie,
    fresh: headerFresh(request.headers) || body.fresh,
    marker: replacementMarker(request.headers, body.replaces),
  });
}

/**
 * Whether the request's replacement marker is confirmed (docs/protocol.md, Replacement marker): the
 * store is asked once per request, before anything of the new id is stored (the `onRequest` hook asks
 * for a request whose headers alone qualify, see {@link askReplacement}), and the answer is memoised.
 * False when there is nothing to replace or the store failed: the cookie then stays.
 */
export function confirmReplacement(request: FastifyRequest, store: DeviceStore): Promise<boolean> {
  const state = request[kDeviceState];
  const device = resolveDevice(request);
  const replacedId = device?.marker?.replaces;
  if (!state || !device || !replacedId) return Promise.resolve(false);
  state.replacement ??= askStore(request, store, { deviceId: device.deviceId, replacedId });
  return state.replacement;
}

/**
 * Asks the store about the replacement a request's headers alone ask for (an eligible marker equal to
 * the valid cookie, a different, non-fresh header id), before its handler runs: a login route that
 * converts the new id first (`/v1/identify`, an app's own) would otherwise make the id known, and the
 * cookie could never move. Nothing under denied consent or a bearer token (no device work): null
 * when there is nothing to ask, so the hook stays synchronous for almost every request.
 */
export function askReplacement(request: FastifyRequest, store: DeviceStore): Promise<boolean> | null {
  const state = request[kDeviceState];
  if (!state || state.consentDenied || state.userId) return null;
  const input = headerReplacement(request.headers, state.cookie);
  if (input === null) return null;
  state.replacement = askStore(request, store, input);
  return state.replacement;
}

/** The store's answer, as a boolean; a failure is logged and answers false (the cookie stays). */
export function askStore(request: FastifyRequest, store: DeviceStore, input: ReplaceInput): Promise<boolean> {
  return store.replaceDevice(input).then(
    (r) => r.status === 'replaced',
    (err: unknown) => {
      request.log.warn({ err }, 'devicelink: checking a replacement marker failed, the cookie stays');
      return false;
    },
  );
}
