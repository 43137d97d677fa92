/**
 * The plugin's hooks on opted-in routes: `onRequest` (consent, the bearer token's user, the cookie, a
 * replacement the headers ask for), `onSend` (the echo header, `Vary`, `Cache-Control`, the cookie,
 * the rate-limit headers) and `onResponse` (`trackRequests`). They are callback hooks that call
 * `done` at once when nothing has to wait, which is almost every request: an async hook costs a
 * promise and a microtask turn per request on the ingest path even when it awaits nothing.
 */

import {
  DEVICE_COOKIE,
  DEVICE_COOKIE_MAX_AGE,
  DEVICE_HEADER,
  referrerOrigin,
  sanitizeUrl,
} from '@devicelink/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  askReplacement,
  confirmReplacement,
  type DeviceState,
  kDeviceState,
  readDeviceCookie,
  resolveDevice,
  untrackedState,
} from './device-context.js';
import { deviceCookieFlags } from './device-cookie.js';
import type { TierResult } from './device-id-tiers.js';
import type { DeviceLinkApi } from './device-link-api.js';
import { mintPlace } from './fingerprint-keys.js';
import type { ResolvedOptions } from './plugin-options.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';
import { firstValue, hasBearerToken, headersDenyConsent } from './request-signals.js';
import { mergeVary, privateCacheControl } from './response-headers.js';

type Done = (err?: Error | null) => void;
type SendDone = (err?: Error | null, payload?: unknown) => void;

const VARY = [DEVICE_HEADER, 'Cookie'];

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

function tokenRefused(request: FastifyRequest, err: unknown): null {
  request.log.debug({ err }, 'devicelink: bearer token not accepted, request is anonymous');
  return null;
}

/**
 * User id of a valid bearer token, else null; an invalid or expired token is anonymous. A promise
 * only when the check has to wait (a token to verify, or the app's `authenticate` answered one).
 */
function authenticate(
  request: FastifyRequest,
  options: ResolvedOptions,
): string | null | Promise<string | null> {
  if (options.authenticate) {
    let user: string | null | Promise<string | null>;
    try {
      user = options.authenticate(request);
    } catch (err) {
      return tokenRefused(request, err);
    }
    if (!isPromise(user)) return user || null;
    return user.then(
      (u) => u || null,
      (err: unknown) => tokenRefused(request, err),
    );
  }
  const verify = (request as { jwtVerify?: () => Promise<unknown> }).jwtVerify;
  if (typeof verify !== 'function' || !hasBearerToken(request.headers)) return null;
  return verify.call(request).then(
    (payload) => {
      const sub = (payload as { sub?: unknown } | null)?.sub;
      return typeof sub === 'string' && sub !== '' ? sub : null;
    },
    (err: unknown) => tokenRefused(request, err),
  );
}

/** The `onRequest` hook: what the request says before its body is read. */
export function requestHook(options: ResolvedOptions) {
  const { store } = options;
  return function onRequest(request: FastifyRequest, _reply: FastifyReply, done: Done): void {
    if (request.method === 'OPTIONS' || request.method === 'HEAD') {
      done();
      return;
    }
    const state = untrackedState();
    request[kDeviceState] = state;
    state.tracking = true;
    state.cookie = readDeviceCookie(request);
    state.consentDenied = headersDenyConsent(request.headers, options.honorGpc);
    // Consent denied needs no user: nothing is tracked either way.
    if (!state.consentDenied) {
      const user = authenticate(request, options);
      if (isPromise(user)) {
        // Before the handler, which may store something under the new id (a login converting it).
        user
          .then((u) => {
            state.userId = u;
            return askReplacement(request, store);
          })
          .then(() => done(), done);
        return;
      }
      state.userId = user;
    }
    const asked = askReplacement(request, store);
    if (asked === null) done();
    else asked.then(() => done(), done);
  };
}

/** The `onSend` hook: the rate-limit headers, then the device's answer. */
export function sendHook(options: ResolvedOptions, devicelink: DeviceLinkApi) {
  return function onSend(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: SendDone,
  ): void {
    const state = request[kDeviceState];
    if (!state) {
      done(null, payload);
      return;
    }
    if (state.limit) setRateLimitHeaders(reply, state.limit.state, state.limit.refused);
    const pending = state.tracking ? answerDevice(request, reply, state, options, devicelink) : null;
    if (pending === null) done(null, payload);
    else pending.then(() => done(null, payload), done);
  };
}

/** The `onResponse` hook of `trackRequests`: a page view of the answered request's URL. */
export function responseHook(
  options: ResolvedOptions,
  trackAnswered: DeviceLinkApi['track'],
  trackRequests: (request: FastifyRequest) => boolean,
) {
  const { queryAllowlist } = options;
  return async function onResponse(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const state = request[kDeviceState];
    if (!state?.tracking || state.tracked || reply.statusCode >= 400) return;
    try {
      if (!trackRequests(request)) return;
      const url = sanitizeUrl(request.url, queryAllowlist);
      if (url === null) return;
      const referer = firstValue(request.headers.referer);
      await trackAnswered(request, [
        {
          type: 'pageview',
          url,
          referrer: referer ? referrerOrigin(referer) : null,
          id: null,
          clientTs: null,
        },
      ]);
    } catch (err) {
      request.log.warn({ err }, 'devicelink: counting the request as a page view failed');
    }
  };
}

/**
 * Sets the echo header, `Vary`, `Cache-Control` and the cookie, or clears the cookie under denied
 * consent. A promise only under a replacement marker (the store decides whether the cookie moves).
 */
function answerDevice(
  request: FastifyRequest,
  reply: FastifyReply,
  state: DeviceState,
  options: ResolvedOptions,
  devicelink: DeviceLinkApi,
): Promise<void> | null {
  // A handler that never read the id still answers with it: the SDK adopts echoes.
  const device = resolveDevice(request);
  if (device === null) {
    if (state.consentDenied && state.cookie !== undefined) {
      reply.clearCookie(DEVICE_COOKIE, deviceCookieFlags(options));
    }
    return null;
  }
  // A refused request (bad body, foreign origin, rate limit) mints no cookie and records no edge:
  // only answers the client can act on carry the id.
  if (reply.statusCode >= 400) return null;
  reply.header(DEVICE_HEADER, device.deviceId);
  reply.header('Vary', mergeVary(reply.getHeader('vary'), VARY));
  reply.header('Cache-Control', privateCacheControl(reply.getHeader('cache-control')));
  // Under a replacement marker the cookie moves only when the store confirms the replacement (the
  // marker named this cookie and the new id is unknown); otherwise it stays, as the marker's old id.
  if (device.marker === undefined) {
    finishDevice(request, reply, state, device, true, options, devicelink);
    return null;
  }
  return confirmReplacement(request, devicelink.store).then((moves) =>
    finishDevice(request, reply, state, device, moves, options, devicelink),
  );
}

/** The cookie, then the edge and the minted mark (hints, never awaited). */
function finishDevice(
  request: FastifyRequest,
  reply: FastifyReply,
  state: DeviceState,
  device: TierResult,
  moves: boolean,
  options: ResolvedOptions,
  devicelink: DeviceLinkApi,
): void {
  if (state.cookie !== device.deviceId && moves) {
    reply.setCookie(DEVICE_COOKIE, device.deviceId, {
      ...deviceCookieFlags(options),
      maxAge: DEVICE_COOKIE_MAX_AGE,
    });
  }
  // Not awaited: edges and the minted mark are hints and must not delay or fail the answer.
  if (device.edge !== null && !state.edgeRecorded) {
    state.edgeRecorded = true;
    devicelink.store.recordEdge(device.edge).catch((err: unknown) => {
      request.log.warn({ err }, 'devicelink: recording a device edge failed');
    });
  }
  const place =
    device.minted && options.recovery ? mintPlace(options.recovery.secret, options.clientIp(request)) : null;
  if (place !== null && !state.mintedNoted) {
    state.mintedNoted = true;
    devicelink.store.noteMinted(device.deviceId, place).catch((err: unknown) => {
      request.log.warn({ err }, 'devicelink: noting a minted device id failed');
    });
  }
}
