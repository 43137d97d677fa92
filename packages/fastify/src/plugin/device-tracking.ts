/**
 * `app.devicelink.track()`: page views of a request counted in its device's live session and queued
 * (one store call), or queued under the bearer token's user.
 */

import type { PageviewRecord } from '@devicelink/protocol';
import {
  MAX_URL_LENGTH,
  type PageviewEvent,
  referrerOrigin,
  sanitizeUrl,
  storedUserAgent,
  uuidv7,
} from '@devicelink/protocol';
import type { FastifyRequest } from 'fastify';
import { DeviceLinkUsageError } from '../errors.js';
import type { DeviceSource, QueuedPageview, TouchInput, TouchResult } from '../store/device-store.js';
import type { Limited, LimitState, RateLimits } from '../store/rate-limits.js';
import { confirmReplacement, type DeviceState, kDeviceState, resolveDevice } from './device-context.js';
import type { TierResult } from './device-id-tiers.js';
import { networkHash } from './network-hash.js';
import type { ResolvedOptions } from './plugin-options.js';
import { bodyAutomation, bodySignals, firstValue } from './request-signals.js';
import { automationSignals } from './traffic-class.js';

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

/** What `track()` needs of the rest of `app.devicelink`. */
export interface TrackDeps {
  options: ResolvedOptions;
  /** The limits of `track()`'s group for the request. */
  limitsOf(request: FastifyRequest): RateLimits | undefined;
  visitorHash(request: FastifyRequest): Promise<string>;
}

type Traffic = TouchInput['traffic'];

/**
 * URLs and referrers as stored, kept: a site's page views repeat a few URLs, and `new URL()` is not
 * free. Bounded in count and in length (long ones are rare and would make the memo heavy).
 */
const MEMO_MAX = 1_000;
const MEMO_LENGTH_MAX = 512;

const refusal = (r: Limited): TrackResult => ({
  tracked: false,
  reason: 'limited',
  by: r.by,
  limit: r.limit,
});

/** What the steps of `track()` share. */
interface TrackContext extends TrackDeps {
  store: ResolvedOptions['store'];
  storedUrl(url: string): string | null;
  storedReferrer(referrer: string): string | null;
}

/** Builds `track(request, events, limited)`; `limited: false` for requests the app already answered. */
export function createTrack(deps: TrackDeps) {
  const ctx: TrackContext = {
    ...deps,
    store: deps.options.store,
    storedUrl: memoized((url: string) => sanitizeUrl(url, deps.options.queryAllowlist)),
    storedReferrer: memoized(referrerOrigin),
  };
  return async function track(
    request: FastifyRequest,
    events: PageviewEvent[],
    limited: boolean,
  ): Promise<TrackResult> {
    const state = trackingState(request, events);
    const device = resolveDevice(request);
    if (state.consentDenied) return { tracked: false, reason: 'consent' };
    const now = Date.now();
    const withIds: QueuedPageview[] = [];
    for (let i = 0; i < events.length; i++) withIds.push(queued(ctx, events[i]!, i, now));
    const rawUserAgent = firstValue(request.headers['user-agent']);
    const userAgent = storedUserAgent(rawUserAgent);
    const traffic = await trafficOf(ctx, request, rawUserAgent, now);
    const limits = limited ? ctx.limitsOf(request) : undefined;
    if (state.userId) return trackUser(ctx, state, withIds, { userAgent, traffic, limits, now });
    if (device === null) return { tracked: false, reason: 'consent' };
    // A client id/cookie edge is recorded by the plugin's onSend hook, once per request and without
    // delaying this answer (it is a reporting hint, not part of the count). A replacement is asked
    // before the touch: once the new id has a session it is known, and the marker could not move the cookie.
    if (device.marker?.replaces) await confirmReplacement(request, ctx.store);
    const result = await ctx.store.touch({
      deviceId: device.deviceId,
      source: device.source,
      visitorHash: device.source === 'server' ? await ctx.visitorHash(request) : null,
      userAgent,
      events: withIds,
      ...(traffic ? { traffic } : {}),
      ...(limits ? { limits } : {}),
    });
    noteLimit(state, result);
    return deviceResult(device, result);
  };
}

/**
 * The URL and referrer of a page view as stored (docs/protocol.md, HTTP API of the collector): the
 * allowlisted query parameters only, the referrer's origin only. The collector's events were parsed
 * by the same rules already; a host app may pass what its own route read.
 */
function queued(ctx: TrackContext, event: PageviewEvent, index: number, now: number): QueuedPageview {
  const url =
    typeof event.url === 'string' && event.url.length <= MAX_URL_LENGTH ? ctx.storedUrl(event.url) : null;
  if (url === null) {
    throw new DeviceLinkUsageError(
      `track(): events[${index}].url must be an http(s) URL or a path of at most ${MAX_URL_LENGTH} characters`,
    );
  }
  const referrer =
    typeof event.referrer === 'string' && event.referrer.length <= MAX_URL_LENGTH
      ? ctx.storedReferrer(event.referrer)
      : null;
  return { type: 'pageview', url, referrer, id: event.id ?? uuidv7(now), clientTs: event.clientTs };
}

/** The class, reason and network hash queued with a request's page views; undefined with the filter off. */
function trafficOf(
  { options, store }: TrackContext,
  request: FastifyRequest,
  userAgent: string | undefined,
  now: number,
): Traffic | Promise<Traffic> {
  if (options.traffic === null) return undefined;
  const { class: trafficClass, reason } = options.traffic.classify(
    userAgent,
    automationSignals(bodyAutomation(request.body)),
  );
  const hash = networkHash(store, options.clientIp(request), now);
  if (typeof hash === 'string' || hash === null)
    return { trafficClass, trafficReason: reason, networkHash: hash };
  return hash.then((h) => ({ trafficClass, trafficReason: reason, networkHash: h }));
}

/** Partitioned by user: these events have no device (contract: no device work for a token). */
async function trackUser(
  { store }: TrackContext,
  state: DeviceState,
  events: QueuedPageview[],
  {
    userAgent,
    traffic,
    limits,
    now,
  }: { userAgent: string | null; traffic: Traffic; limits: RateLimits | undefined; now: number },
): Promise<TrackResult> {
  const userId = state.userId as string;
  const records: PageviewRecord[] = events.map((e) => ({
    kind: 'pageview',
    eventId: e.id,
    deviceId: null,
    userId,
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
  // An erased user's events are dropped for 30 days (the store checks the tombstone atomically).
  const result = await store.queueUserEvents(userId, records, limits);
  noteLimit(state, result);
  if (result.status === 'limited') return refusal(result);
  if (result.status === 'erased') return { tracked: false, reason: 'erased' };
  return { tracked: true, accepted: result.accepted, userId };
}

/** The request's state, marked tracked; throws for a misuse (route not opted in, no events). */
function trackingState(request: FastifyRequest, events: PageviewEvent[]): DeviceState {
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
  // still decides for the events it carries. Not yet looked up, the lookup reads the body.
  if (!state.consentDenied && state.resolved !== undefined && bodySignals(request.body).consentDenied) {
    state.consentDenied = true;
    state.resolved = null;
  }
  return state;
}

/** The limit's state goes into the answer's headers (the onSend hook). */
function noteLimit(state: DeviceState, result: { status: string; limit?: LimitState }): void {
  if (result.limit) state.limit = { state: result.limit, refused: result.status === 'limited' };
}

function deviceResult(device: TierResult, result: TouchResult): TrackResult {
  if (result.status === 'limited') return refusal(result);
  // An erased device (tombstone) stays untracked for 30 days whatever it sends.
  if (result.status === 'erased') return { tracked: false, reason: 'erased' };
  const { deviceId, source } = device;
  // Already counted in a session that has ended: accepted (202), nothing new, no session to name.
  if (result.status === 'duplicate') return { tracked: true, accepted: 0, deviceId, sessionId: null, source };
  return { tracked: true, accepted: result.accepted, deviceId, sessionId: result.session.sessionId, source };
}

/** `fn` with its answers for recent short inputs kept (bounded: it starts over when full). */
function memoized(fn: (value: string) => string | null): (value: string) => string | null {
  const known = new Map<string, string | null>();
  return (value) => {
    if (value.length > MEMO_LENGTH_MAX) return fn(value);
    let answer = known.get(value);
    if (answer === undefined) {
      if (known.size >= MEMO_MAX) known.clear();
      answer = fn(value);
      known.set(value, answer);
    }
    return answer;
  };
}
