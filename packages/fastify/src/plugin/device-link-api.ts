/**
 * `app.devicelink`: tracking page views of a request, conversion, and the stores. Used by the
 * collector's routes and by host apps (their login route converts).
 */
import { isValidDeviceId, type PageviewEvent, uuidv7 } from '@devicelink/protocol';
import type { FastifyRequest } from 'fastify';
import { DeviceLinkUsageError } from '../errors.js';
import type { PageviewRecord } from '../records/queue-records.js';
import type { ConvertResult, DeviceSource, DeviceStore, QueuedPageview } from '../store/device-store.js';
import { kDeviceState, resolveDevice } from './device-context.js';
import type { ResolvedOptions } from './plugin-options.js';
import { bodySignals, firstValue } from './request-signals.js';
import { createVisitorHasher } from './visitor-hash.js';

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
  | { tracked: false; reason: 'consent' | 'erased' };

/** The `app.devicelink` decoration. */
export interface DeviceLink {
  /**
   * Counts `events` (already parsed, 1 to 100) for the request's device, or queues them under the
   * bearer token's user. Call it from a route with `config: { devicelink: true }`. Events without an
   * id get a UUIDv7. Resolves once the events are on the queue.
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
  /** The store the plugin was registered with. */
  readonly store: DeviceStore;
}

// A User-Agent is kept beside every queued page view; longer ones are junk or abuse.
const MAX_USER_AGENT = 512;

/** Builds the `app.devicelink` object over validated options. */
export function createDeviceLink(options: ResolvedOptions): DeviceLink {
  const { store } = options;
  const hasher = createVisitorHasher(store);

  function visitorHash(request: FastifyRequest): Promise<string> {
    return hasher.hash({
      ip: options.clientIp(request),
      userAgent: firstValue(request.headers['user-agent']),
      acceptLanguage: firstValue(request.headers['accept-language']),
    });
  }

  async function track(request: FastifyRequest, events: PageviewEvent[]): Promise<TrackResult> {
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
    const withIds: QueuedPageview[] = events.map((e) => ({ ...e, id: e.id ?? uuidv7(now) }));
    const userAgent = firstValue(request.headers['user-agent'])?.slice(0, MAX_USER_AGENT) ?? null;

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
      }));
      // Partitioned by user: these events have no device (contract: no device work for a token). An
      // erased user's events are dropped for 30 days (the store checks the tombstone atomically).
      const queued = await store.queueUserEvents(state.userId, records);
      if (queued.status === 'erased') return { tracked: false, reason: 'erased' };
      return { tracked: true, accepted: queued.accepted, userId: state.userId };
    }
    if (device === null) return { tracked: false, reason: 'consent' };

    // A header/cookie alias is recorded by the plugin's onSend hook, once per request and without
    // delaying this answer (it is a reporting hint, not part of the count).
    const result = await store.touch({
      deviceId: device.deviceId,
      source: device.source,
      visitorHash: device.source === 'server' ? await visitorHash(request) : null,
      userAgent,
      events: withIds,
    });
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

  return { track, convert, visitorHash, store };
}
