/**
 * `app.devicelink`: tracking page views of a request, conversion, and the stores. Used by the
 * collector's routes and by host apps (their login route converts).
 */

import {
  DEVICE_COOKIE,
  DEVICE_COOKIE_MAX_AGE,
  isValidDeviceId,
  type PageviewEvent,
} from '@devicelink/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DeviceLinkUsageError } from '../errors.js';
import type { ConvertResult, DeviceStore } from '../store/device-store.js';
import { type LimitResult, PAGEVIEW_GROUP, type RateLimits } from '../store/rate-limits.js';
import { clientDeviceId } from './client-device-id.js';
import { askStore, readDeviceCookie } from './device-context.js';
import { deviceCookieFlags } from './device-cookie.js';
import { createTrack, type TrackResult } from './device-tracking.js';
import { createFingerprint, type EvidenceResult } from './fingerprint-evidence.js';
import type { ResolvedOptions } from './plugin-options.js';
import { headerReplacement } from './replacement-marker.js';
import { firstValue, headersDenyConsent } from './request-signals.js';
import { createVisitorHasher } from './visitor-hash.js';

/** The `app.devicelink` decoration. */
export interface DeviceLinkApi {
  /**
   * Counts `events` (1 to 100) for the request's device, or queues them under the bearer token's user.
   * Call it from a route with `config: { devicelink: true }`. What is queued keeps of each URL only the
   * `queryAllowlist` parameters (no fragment) and of each referrer only its origin; a URL that is not an
   * http(s) URL or a path, or is longer than 2,048 characters, throws `DeviceLinkUsageError` (validate
   * it first). Events without an id get a UUIDv7. Resolves once the events are on the queue.
   */
  track(request: FastifyRequest, events: PageviewEvent[]): Promise<TrackResult>;
  /**
   * Conversion: ends the device's live session and queues an identity link. Pass a device id the
   * client sent (header or cookie), never a server-tier id. Throws `DeviceLinkUsageError` for an
   * invalid device id or an empty user id.
   */
  convert(deviceId: string, userId: string): Promise<ConvertResult>;
  /** The request's `visitorHash` (keyed hash of IP, User-Agent, language), e.g. for rate-limit keys. */
  visitorHash(request: FastifyRequest): Promise<string>;
  /**
   * Counts the `rateLimit` option's limits for a route that writes nothing through `track()` (a login
   * route), under its own `group` of client counters (`[a-z0-9-]`); the per-address counter is shared
   * by every group; `perAddress: false` leaves it out). Answers null without a `rateLimit` option. Set
   * the headers with `setRateLimitHeaders`.
   */
  limit(
    request: FastifyRequest,
    group: string,
    options?: { perAddress?: boolean },
  ): Promise<LimitResult | null>;
  /**
   * The fingerprint evidence of the request's device (docs/protocol.md, Fingerprint joins): keyed
   * hashes of `visitorId`, the client's network prefix and browser family go to the store, which
   * registers them or makes a revocable join to one earlier device. Call it from a route with
   * `config: { devicelink: true }`. Throws `DeviceLinkUsageError` for a visitorId that is not a
   * string of 1 to 128 characters. `automation`: the page's automation signals (the SDK's automation
   * chunk); any of them, or a marked user agent, refuses the evidence (`non-human`).
   */
  fingerprint(request: FastifyRequest, visitorId: string, automation?: unknown): Promise<EvidenceResult>;
  /**
   * Clears the `device_fp` cookie with the flags it was set with (domain, partitioned), e.g. for an
   * app's logout on a shared computer (the SDK's `reset()`).
   */
  clearCookie(reply: FastifyReply): void;
  /**
   * The replacement marker on a route that is not opted in and converts the client's id (the
   * collector's `/v1/identify`, an app's own login route): call it before `convert()`. When the
   * request's headers ask for a replacement the store confirms (docs/protocol.md, Replacement marker),
   * sets the `device_fp` cookie to the new id and resolves true. Opted-in routes need not call it.
   */
  replaceCookie(request: FastifyRequest, reply: FastifyReply): Promise<boolean>;
  /** True when fingerprint joins are on (the plugin has a recovery secret). */
  readonly recovery: boolean;
  /** The store the plugin was registered with. */
  readonly store: DeviceStore;
}

/** The client counters of `track()`. */
const TRACK_GROUP = PAGEVIEW_GROUP;

/** Builds the `app.devicelink` object over validated options, and the plugin's own tracking call. */
export function createDeviceLink(options: ResolvedOptions): {
  api: DeviceLinkApi;
  /** `track()` without rate limits: requests the host app already answered (`trackRequests`). */
  trackAnswered: DeviceLinkApi['track'];
} {
  const { store } = options;
  const hasher = createVisitorHasher(store);
  const limitsOf = (request: FastifyRequest, group: string, perAddress = true) =>
    requestLimits(options, request, group, perAddress);
  const visitorHash = (request: FastifyRequest): Promise<string> =>
    hasher.hash({
      ip: options.clientIp(request),
      userAgent: firstValue(request.headers['user-agent']),
      acceptLanguage: firstValue(request.headers['accept-language']),
    });
  const track = createTrack({ options, visitorHash, limitsOf: (request) => limitsOf(request, TRACK_GROUP) });
  const cookieFlags = () => deviceCookieFlags(options);
  return {
    api: {
      track: (request, events) => track(request, events, true),
      convert: (deviceId, userId) => convert(store, deviceId, userId),
      visitorHash,
      limit: async (request, group, { perAddress = true } = {}) => {
        const limits = limitsOf(request, group, perAddress);
        return limits ? store.limit(limits) : null;
      },
      fingerprint: createFingerprint(options),
      clearCookie: (reply) => {
        reply.clearCookie(DEVICE_COOKIE, cookieFlags());
      },
      replaceCookie: async (request, reply) => {
        if (headersDenyConsent(request.headers, options.honorGpc)) return false;
        const input = headerReplacement(request.headers, readDeviceCookie(request));
        if (input === null || !(await askStore(request, store, input))) return false;
        reply.setCookie(DEVICE_COOKIE, input.deviceId, { ...cookieFlags(), maxAge: DEVICE_COOKIE_MAX_AGE });
        return true;
      },
      recovery: options.recovery !== null,
      store,
    },
    trackAnswered: (request, events) => track(request, events, false),
  };
}

/** The `rateLimit` option's counters of a request under `group`; undefined without the option. */
function requestLimits(
  options: ResolvedOptions,
  request: FastifyRequest,
  group: string,
  perAddress: boolean,
): RateLimits | undefined {
  const r = options.rateLimit;
  if (r === null) return undefined;
  return {
    windowMs: r.windowMs,
    group,
    clientMax: r.max,
    // The id the client sent (header, else cookie), as a limit keyed before any lookup would be.
    deviceId: clientDeviceId(request, { honorGpc: options.honorGpc }),
    address: options.clientIp(request),
    addressMax: perAddress ? r.addressMax : null,
    // New ids are minted by page views: only track() counts them.
    newIds: group === TRACK_GROUP ? r.newIds : null,
  };
}

function convert(store: DeviceStore, deviceId: string, userId: string): Promise<ConvertResult> {
  // Never a store key from an invalid id, whoever calls.
  if (!isValidDeviceId(deviceId)) {
    throw new DeviceLinkUsageError('convert() needs a valid device id (16 to 64 of [A-Za-z0-9_-])');
  }
  if (typeof userId !== 'string' || userId === '') {
    throw new DeviceLinkUsageError('convert() needs a non-empty user id');
  }
  return store.convert(deviceId, userId);
}

/** @deprecated Renamed `DeviceLinkApi` (the SDK has a `DeviceLink` of its own); goes in 0.3. */
export type DeviceLink = DeviceLinkApi;
