/**
 * The Fastify plugin (docs/protocol.md, Tiered lookup): lazy `request.deviceId`, the response
 * headers and cookie, consent, bearer tokens, edges and `trackRequests`.
 */

import {
  DEVICE_COOKIE,
  DEVICE_COOKIE_MAX_AGE,
  DEVICE_HEADER,
  referrerOrigin,
  sanitizeUrl,
} from '@devicelink/protocol';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { DeviceSource } from '../store/device-store.js';
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
import { createDeviceLink, type DeviceLink } from './device-link-api.js';
import { mintPlace } from './fingerprint-keys.js';
import { type DeviceLinkOptions, type ResolvedOptions, validateOptions } from './plugin-options.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';
import { firstValue, hasBearerToken, headersDenyConsent } from './request-signals.js';
import { mergeVary, privateCacheControl } from './response-headers.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The request's device id, looked up on first read (at most once per request): the client's
     * `X-Device-Fingerprint` header or body `deviceId`, the `device_fp` cookie, or a new server id.
     * Null when no device work applies: a route without `config: { devicelink: true }`, OPTIONS or
     * HEAD, a valid bearer token, consent denied.
     */
    readonly deviceId: string | null;
    /** The tier that gave `deviceId`, or null with it. */
    readonly deviceSource: DeviceSource | null;
  }
  interface FastifyInstance {
    /** Tracking, conversion and the store of @devicelink/fastify. */
    devicelink: DeviceLink;
  }
  interface FastifyContextConfig {
    /** Opt this route in to device work (tracking routes only; never health, metrics or admin). */
    devicelink?: boolean;
  }
}

const VARY = [DEVICE_HEADER, 'Cookie'];

async function plugin(fastify: FastifyInstance, rawOptions: DeviceLinkOptions): Promise<void> {
  const options = validateOptions(rawOptions);
  // One cookie plugin per app: an app that registered its own (with its own secret or parse hook)
  // keeps it; register it before devicelink.
  if (!fastify.hasDecorator('parseCookie')) await fastify.register(fastifyCookie);

  const { api: devicelink, trackAnswered } = createDeviceLink(options);
  fastify.decorate('devicelink', devicelink);
  fastify.decorateRequest(kDeviceState, null);
  fastify.decorateRequest('deviceId', {
    getter(this: FastifyRequest) {
      return resolveDevice(this)?.deviceId ?? null;
    },
  });
  fastify.decorateRequest('deviceSource', {
    getter(this: FastifyRequest) {
      return resolveDevice(this)?.source ?? null;
    },
  });

  async function onRequest(request: FastifyRequest): Promise<void> {
    if (request.method === 'OPTIONS' || request.method === 'HEAD') return;
    const state = untrackedState();
    request[kDeviceState] = state;
    state.tracking = true;
    state.cookie = readDeviceCookie(request);
    state.consentDenied = headersDenyConsent(request.headers, options.honorGpc);
    // Consent denied needs no user: nothing is tracked either way.
    if (!state.consentDenied) state.userId = await authenticate(request, options);
    // Before the handler, which may store something under the new id (a login converting it).
    await askReplacement(request, options.store);
  }

  async function onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const state = request[kDeviceState];
    if (state?.limit) setRateLimitHeaders(reply, state.limit.state, state.limit.refused);
    if (state?.tracking) await answerDevice(request, reply, state, options, devicelink);
    return payload;
  }

  const trackRequests = options.trackRequests;
  const queryAllowlist = options.queryAllowlist;
  async function onResponse(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const state = request[kDeviceState];
    if (!trackRequests || !state?.tracking || state.tracked || reply.statusCode >= 400) return;
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
  }

  // The hooks go on opted-in routes only, so the rest of a host app (health checks, metrics, admin)
  // runs no devicelink code at all. fastify-plugin puts this onRoute hook in the registering context,
  // so routes of child plugins registered after devicelink get the hooks too. Ours go first, where a
  // global hook would have run, so the route's own hooks can read `request.deviceId`.
  fastify.addHook('onRoute', (route) => {
    if (route.config?.devicelink !== true) return;
    route.onRequest = [onRequest, ...hookList(route.onRequest)] as typeof route.onRequest;
    route.onSend = [onSend, ...hookList(route.onSend)] as typeof route.onSend;
    if (trackRequests)
      route.onResponse = [onResponse, ...hookList(route.onResponse)] as typeof route.onResponse;
  });
}

/** A route option's hooks as an array (Fastify takes one function or an array). */
function hookList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined || hooks === null) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

/** User id of a valid bearer token, else null; an invalid or expired token is anonymous. */
async function authenticate(request: FastifyRequest, options: ResolvedOptions): Promise<string | null> {
  try {
    if (options.authenticate) return (await options.authenticate(request)) || null;
    const verify = (request as { jwtVerify?: () => Promise<unknown> }).jwtVerify;
    if (typeof verify !== 'function' || !hasBearerToken(request.headers)) return null;
    const payload = await verify.call(request);
    const sub = (payload as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' && sub !== '' ? sub : null;
  } catch (err) {
    request.log.debug({ err }, 'devicelink: bearer token not accepted, request is anonymous');
    return null;
  }
}

/** Sets the echo header, `Vary`, `Cache-Control` and the cookie, or clears the cookie under denied consent. */
async function answerDevice(
  request: FastifyRequest,
  reply: FastifyReply,
  state: DeviceState,
  options: ResolvedOptions,
  devicelink: DeviceLink,
): Promise<void> {
  // A handler that never read the id still answers with it: the SDK adopts echoes.
  const device = resolveDevice(request);
  const cookieFlags = deviceCookieFlags(options);
  if (device === null) {
    if (state.consentDenied && state.cookie !== undefined) reply.clearCookie(DEVICE_COOKIE, cookieFlags);
    return;
  }
  // A refused request (bad body, foreign origin, rate limit) mints no cookie and records no edge:
  // only answers the client can act on carry the id.
  if (reply.statusCode >= 400) return;
  reply.header(DEVICE_HEADER, device.deviceId);
  reply.header('Vary', mergeVary(reply.getHeader('vary'), VARY));
  reply.header('Cache-Control', privateCacheControl(reply.getHeader('cache-control')));
  // Under a replacement marker the cookie moves only when the store confirms the replacement (the
  // marker named this cookie and the new id is unknown); otherwise it stays, as the marker's old id.
  const moves = device.marker === undefined || (await confirmReplacement(request, devicelink.store));
  if (state.cookie !== device.deviceId && moves) {
    reply.setCookie(DEVICE_COOKIE, device.deviceId, { ...cookieFlags, maxAge: DEVICE_COOKIE_MAX_AGE });
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

/**
 * The devicelink plugin. Register once per app with a store; opt tracking routes in with
 * `config: { devicelink: true }`. A persister (`@devicelink/persister`) must drain the store's queue.
 *
 * @example
 * const store = await createRedisStore(redis, { prefix: 'dl:', partitions: 64 });
 * await app.register(devicelink, { store, cookie: { sameSite: 'lax' } });
 * app.get('/products', { config: { devicelink: true } }, async (request) => ({ device: request.deviceId }));
 */
export const devicelink = fp(plugin, { name: '@devicelink/fastify', fastify: '5.x' });
