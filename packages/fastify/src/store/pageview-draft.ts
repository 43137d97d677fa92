/**
 * Builds the queued page-view record of a touch. The parts only the store knows at write time
 * (`sessionId`, `serverTs`) are added by the store: in Redis by the script, from `TIME`.
 */
import type { PageviewRecord } from '@devicelink/protocol';
import type { QueuedPageview, TouchInput } from './device-store.js';

/** A page-view record without the fields the store fills in. */
export type PageviewDraft = Omit<PageviewRecord, 'sessionId' | 'serverTs'>;

/** The record of one page view of a device's touch, before the store adds session and server time. */
export function pageviewDraft(input: TouchInput, event: QueuedPageview): PageviewDraft {
  return {
    kind: 'pageview',
    eventId: event.id,
    deviceId: input.deviceId,
    userId: null,
    source: input.source,
    visitorHash: input.visitorHash,
    userAgent: input.userAgent,
    url: event.url,
    referrer: event.referrer,
    clientTs: event.clientTs,
    ...input.traffic,
  };
}
