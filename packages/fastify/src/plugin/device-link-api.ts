/**
 * `app.devicelink`: tracking page views of a request, conversion, and the stores. Used by the
 * collector's routes and by host apps (their login route converts).
 */

import type { PageviewRecord } from '@devicelink/protocol';
import {
  DEVICE_COOKIE,
  DEVICE_COOKIE_MAX_AGE,
  isValidDeviceId,
  MAX_URL_LENGTH,
  type PageviewEvent,
  referrerOrigin,
  sanitizeUrl,
  storedUserAgent,
  uuidv7,
} from '@devicelink/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DeviceLinkUsageError } from '../errors.js';
import type {
  ConvertResult,
  DeviceSource,
  DeviceStore,
  FingerprintResult,
  QueuedPageview,
  TouchInput,
} from '../store/device-store.js';
import { networkPrefixes } from '../store/network-prefixes.js';
import type { Limited, LimitResult, LimitState, RateLimits } from '../store/rate-limits.js';
import { clientDeviceId } from './client-device-id.js';
import {
  askStore,
  confirmReplacement,
  kDeviceState,
  readDeviceCookie,
  resolveDevice,
} from './device-context.js';
import { deviceCookieFlags } from './device-cookie.js';
import { browserFamily, fingerprintKeys } from './fingerprint-keys.js';
import { networkHash } from './network-hash.js';
import type { ResolvedOptions } from './plugin-options.js';
import { headerReplacement } from './replacement-marker.js';
import { bodyAutomation, bodySignals, firstValue, headersDenyConsent } from './request-signals.js';
import { automationSignals, type TrafficClassifier } from './traffic-class.js';
import { createVisitorHasher } from './visitor-hash.js';

/** False when the filter is on and the user agent or the page's signals mark the request. */
function isHumanEvidence(
  traffic: TrafficClassifier | null,
  request: FastifyRequest,
  automation: unknown,
): boolean {
  if (traffic === null) return true;
  const signals = automationSignals(automation ?? bodyAutomation(request.body));
  return traffic.classify(firstValue(request.headers['user-agent']), signals).class === 'human';
}

/**
 * The URL and referrer of a page view as stored (docs/protocol.md, HTTP API of the collector): the
 * allowlisted query parameters only, the referrer's origin only. The collector's events were parsed by
 * the same rules already; a host app may pass what its own route read.
 */
function storedUrls(
  event: PageviewEvent,
  index: number,
  queryAllowlist: readonly string[],
): { url: string; referrer: string | null } {
  const url =
    typeof event.url === 'string' && event.url.length <= MAX_URL_LENGTH
      ? sanitizeUrl(event.url, queryAllowlist)
      : null;
  if (url === null) {
    throw new DeviceLinkUsageError(
      `track(): events[${index}].url must be an http(s) URL or a path of at most ${MAX_URL_LENGTH} characters`,
    );
  }
  const referrer =
    typeof event.referrer === 'string' && event.referrer.length <= MAX_URL_LENGTH
      ? referrerOrigin(event.referrer)
      : null;
  return { url, referrer };
}

/** What `track()` did. */
export type TrackResult =
  /** Counted in the device's live session and queued. */
  | {
      tracked: true;
      accepted: number;
      deviceId: string;
      /** Null only when every event was a duplicate of one counted in a session that has ended. */
      sessionId: string | null;
      source: DeviceSource;
    }
  /** A valid bearer token: queued under the user id, with no device or session. */
  | { tracked: true; accepted: number; userId: string }
  /** Nothing counted or queued: consent denied (header, body, GPC), or the device or user was erased. */
  | { tracked: false; reason: 'consent' | 'erased' }
  /**
   * Over a rate limit (the `rateLimit` option): nothing counted or queued. The plugin sets
   * `Retry-After` and `x-ratelimit-*`; answer 429.
   */
  | { tracked: false; reason: 'limited'; by: Limited['by']; limit: LimitState };

/** What `fingerprint()` did with a piece of evidence. Never names another device. */
export type EvidenceResult =
  | FingerprintResult
  /**
   * Not taken: joins are off (no recovery secret), no device work applies (consent, token, route not
   * opted in), the request carried no client id, the fresh id yielded to the cookie (the browser is
   * known already), or the client address is not an IP address.
   */
  | { status: 'off' | 'untracked' | 'yielded' }
  /**
   * Not taken: the user agent or the page's automation signals mark the device as a bot or automation
   * (docs/protocol.md, Bots and automation): no join, no cap counted.
   */
  | { status: 'non-human' };

/** Longest visitorId taken (FingerprintJS's are 32 hex characters). */
const MAX_VISITOR_ID = 128;

/** The `app.devicelink` decoration. */
export interface DeviceLink {
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

const refusal = (r: Limited): TrackResult => ({
  tracked: false,
  reason: 'limited',
  by: r.by,
  limit: r.limit,
});

/** The client counters of `track()`. */
const TRACK_GROUP = 'events';

/** Builds the `app.devicelink` object over validated options, and the plugin's own tracking call. */
export function createDeviceLink(options: ResolvedOptions): {
  api: DeviceLink;
  /** `track()` without rate limits: requests the host app already answered (`trackRequests`). */
  trackAnswered: DeviceLink['track'];
} {
  const { store } = options;
  const hasher = createVisitorHasher(store);

  function limitsOf(request: FastifyRequest, group: string, perAddress = true): RateLimits | undefined {
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

  async function limit(
    request: FastifyRequest,
    group: string,
    { perAddress = true }: { perAddress?: boolean } = {},
  ): Promise<LimitResult | null> {
    const limits = limitsOf(request, group, perAddress);
    return limits ? store.limit(limits) : null;
  }

  function visitorHash(request: FastifyRequest): Promise<string> {
    return hasher.hash({
      ip: options.clientIp(request),
      userAgent: firstValue(request.headers['user-agent']),
      acceptLanguage: firstValue(request.headers['accept-language']),
    });
  }

  async function track(
    request: FastifyRequest,
    events: PageviewEvent[],
    limited = true,
  ): Promise<TrackResult> {
    const state = request[kDeviceState];
    if (!state?.tracking) {
      throw new DeviceLinkUsageError(
        'track() needs a route registered with config: { devicelink: true } after the devicelink plugin (and not OPTIONS or HEAD)',
      );
    }
    if (!Array.isArray(events) || events.length === 0) {
      throw new DeviceLinkUsageError('track() needs at least one page view');
    }
    state.tracked = true;
    // The id may have been read before the body was parsed (an onRequest hook): the body's consent
    // still decides for the events it carries. Not yet looked up, the lookup below reads the body.
    if (!state.consentDenied && state.resolved !== undefined && bodySignals(request.body).consentDenied) {
      state.consentDenied = true;
      state.resolved = null;
    }
    const device = resolveDevice(request);
    if (state.consentDenied) return { tracked: false, reason: 'consent' };
    const now = Date.now();
    const withIds: QueuedPageview[] = events.map((e, i) => ({
      ...e,
      ...storedUrls(e, i, options.queryAllowlist),
      id: e.id ?? uuidv7(now),
    }));
    const rawUserAgent = firstValue(request.headers['user-agent']);
    const userAgent = storedUserAgent(rawUserAgent);
    const traffic = await trafficOf(request, rawUserAgent, now);
    const limits = limited ? limitsOf(request, TRACK_GROUP) : undefined;
    // The limit's state goes into the answer's headers (the onSend hook).
    const noteLimit = (result: { status: string; limit?: LimitState }): void => {
      if (result.limit) state.limit = { state: result.limit, refused: result.status === 'limited' };
    };

    if (state.userId) {
      const records: PageviewRecord[] = withIds.map((e) => ({
        kind: 'pageview',
        eventId: e.id,
        deviceId: null,
        userId: state.userId as string,
        sessionId: null,
        source: null,
        visitorHash: null,
        userAgent,
        url: e.url,
        referrer: e.referrer,
        clientTs: e.clientTs,
        serverTs: now,
        ...traffic,
      }));
      // Partitioned by user: these events have no device (contract: no device work for a token). An
      // erased user's events are dropped for 30 days (the store checks the tombstone atomically).
      const queued = await store.queueUserEvents(state.userId, records, limits);
      noteLimit(queued);
      if (queued.status === 'limited') return refusal(queued);
      if (queued.status === 'erased') return { tracked: false, reason: 'erased' };
      return { tracked: true, accepted: queued.accepted, userId: state.userId };
    }
    if (device === null) return { tracked: false, reason: 'consent' };

    // A client id/cookie edge is recorded by the plugin's onSend hook, once per request and without
    // delaying this answer (it is a reporting hint, not part of the count). A replacement is asked
    // before the touch: once the new id has a session it is known, and the marker could not move the cookie.
    if (device.marker?.replaces) await confirmReplacement(request, store);
    const result = await store.touch({
      deviceId: device.deviceId,
      source: device.source,
      visitorHash: device.source === 'server' ? await visitorHash(request) : null,
      userAgent,
      events: withIds,
      ...(traffic ? { traffic } : {}),
      ...(limits ? { limits } : {}),
    });
    noteLimit(result);
    if (result.status === 'limited') return refusal(result);
    // An erased device (tombstone) stays untracked for 30 days whatever it sends.
    if (result.status === 'erased') return { tracked: false, reason: 'erased' };
    // Already counted in a session that has ended: accepted (202), nothing new, no session to name.
    if (result.status === 'duplicate') {
      return {
        tracked: true,
        accepted: 0,
        deviceId: device.deviceId,
        sessionId: null,
        source: device.source,
      };
    }
    return {
      tracked: true,
      accepted: result.accepted,
      deviceId: device.deviceId,
      sessionId: result.session.sessionId,
      source: device.source,
    };
  }

  async function convert(deviceId: string, userId: string): Promise<ConvertResult> {
    // Never a store key from an invalid id, whoever calls.
    if (!isValidDeviceId(deviceId)) {
      throw new DeviceLinkUsageError('convert() needs a valid device id (16 to 64 of [A-Za-z0-9_-])');
    }
    if (typeof userId !== 'string' || userId === '') {
      throw new DeviceLinkUsageError('convert() needs a non-empty user id');
    }
    return store.convert(deviceId, userId);
  }

  /** The class, reason and network hash queued with a request's page views; undefined with the filter off. */
  async function trafficOf(
    request: FastifyRequest,
    userAgent: string | undefined,
    now: number,
  ): Promise<TouchInput['traffic']> {
    if (options.traffic === null) return undefined;
    const { class: trafficClass, reason } = options.traffic.classify(
      userAgent,
      automationSignals(bodyAutomation(request.body)),
    );
    return {
      trafficClass,
      trafficReason: reason,
      networkHash: await networkHash(store, options.clientIp(request), now),
    };
  }

  async function fingerprint(
    request: FastifyRequest,
    visitorId: string,
    automation?: unknown,
  ): Promise<EvidenceResult> {
    // Characters are code points, as the JSON Schema `maxLength` of the collector's route counts them: a
    // visitorId of 128 four-byte characters (256 UTF-16 units) passes that schema and must pass here.
    if (typeof visitorId !== 'string' || visitorId === '' || codePoints(visitorId) > MAX_VISITOR_ID) {
      throw new DeviceLinkUsageError(`fingerprint() needs a visitorId of 1 to ${MAX_VISITOR_ID} characters`);
    }
    const state = request[kDeviceState];
    if (!state?.tracking) {
      throw new DeviceLinkUsageError(
        'fingerprint() needs a route registered with config: { devicelink: true } after the devicelink plugin',
      );
    }
    if (options.recovery === null) return { status: 'off' };
    // The one guard of the fingerprint path: a device its user agent or its page marks as a program
    // makes no join and counts no cap (it never reaches the store's join or cap code).
    if (!isHumanEvidence(options.traffic, request, automation)) return { status: 'non-human' };
    const device = resolveDevice(request);
    if (device === null || device.source === 'server') return { status: 'untracked' };
    // The cookie answered for the minted id: this browser is known, and the fresh id is gone.
    if (device.edge?.kind === 'yield') return { status: 'yielded' };
    const network = networkPrefixes(options.clientIp(request));
    if (network === null) return { status: 'untracked' };
    // The evidence may be the minted id's first request: its join window starts before it is judged.
    const keys = fingerprintKeys(
      options.recovery.secret,
      visitorId,
      network,
      browserFamily(firstValue(request.headers['user-agent'])),
    );
    if (device.minted && !state.mintedNoted) {
      state.mintedNoted = true;
      await store.noteMinted(device.deviceId, keys.place);
    }
    return store.recordFingerprint({ deviceId: device.deviceId, ...keys });
  }

  async function replaceCookie(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    if (headersDenyConsent(request.headers, options.honorGpc)) return false;
    const input = headerReplacement(request.headers, readDeviceCookie(request));
    if (input === null || !(await askStore(request, store, input))) return false;
    reply.setCookie(DEVICE_COOKIE, input.deviceId, {
      ...deviceCookieFlags(options),
      maxAge: DEVICE_COOKIE_MAX_AGE,
    });
    return true;
  }

  function clearCookie(reply: FastifyReply): void {
    reply.clearCookie(DEVICE_COOKIE, deviceCookieFlags(options));
  }

  return {
    api: {
      track: (request, events) => track(request, events),
      convert,
      visitorHash,
      limit,
      fingerprint: (request, visitorId, automation) => fingerprint(request, visitorId, automation),
      clearCookie,
      replaceCookie,
      recovery: options.recovery !== null,
      store,
    },
    trackAnswered: (request, events) => track(request, events, false),
  };
}

/** The number of code points of `s` (a lone surrogate counts as one), as JSON Schema counts length. */
function codePoints(s: string): number {
  // Only strings past the limit in UTF-16 units can differ from `.length` in the answer.
  if (s.length <= MAX_VISITOR_ID) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}
