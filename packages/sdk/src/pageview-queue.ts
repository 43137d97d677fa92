/**
 * Page views waiting to be sent, in batches. Every event gets its UUIDv7 `id` when it is recorded and
 * keeps it through retries, so the collector counts a retried event once. Page views made while the app
 * had a token are sent with that token (authenticated events) and never batched with anonymous ones.
 */
import { MAX_EVENTS_PER_REQUEST, type PageviewInput, uuidv7 } from '@devicelink/protocol';
import type { CollectorClient } from './collector-client.js';
import type { DeviceIdClient } from './device-id-client.js';

/** Batching options. */
export interface BatchOptions {
  /** Send as soon as this many page views wait (default 10, at most 100; 1 sends each at once). */
  size?: number;
  /** Otherwise send this long after the first one waits, ms (default 1000). */
  delayMs?: number;
}

/** The queue of one DeviceLink. */
export interface PageviewQueue {
  /** Records a page view; sent later, or kept while consent is pending, or dropped when denied. */
  push(url: string, referrer: string | undefined, token: string | null): void;
  /** Sends everything waiting (when consent is granted); resolves when done or failed. */
  flush(): Promise<void>;
  /** Sends everything waiting right now, without waiting for the fingerprint: the page is going away. */
  flushNow(): void;
  /** Drops everything waiting and cancels timers. */
  clear(): void;
}

interface Queued {
  event: PageviewInput;
  token: string | null;
}

const EVENTS = '/v1/events';
const MAX_RETRY_MS = 30_000;

/** Creates the queue. */
export function createPageviewQueue(
  device: DeviceIdClient,
  collector: CollectorClient,
  waitMs: number,
  { size = 10, delayMs = 1000 }: BatchOptions = {},
): PageviewQueue {
  const limit = Math.min(size, MAX_EVENTS_PER_REQUEST);
  let queue: Queued[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending = Promise.resolve();
  let retryMs = 0;

  const cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const schedule = (ms: number) => {
    if (timer === undefined && device.consent() === 'granted') timer = setTimeout(flush, ms);
  };
  // The leading run of events that share one token, at most one request's worth.
  const take = () => {
    const token = queue[0]!.token;
    let n = 0;
    while (n < queue.length && n < MAX_EVENTS_PER_REQUEST && queue[n]!.token === token) n++;
    return { token, batch: queue.splice(0, n) };
  };

  const send = async () => {
    while (queue.length && device.consent() === 'granted') {
      const deviceId = await device.ready(waitMs);
      // While it waited, the page may have gone away (flushNow) or consent been withdrawn (clear).
      if (!queue.length || device.consent() !== 'granted') return;
      const { token, batch } = take();
      const r = await collector.post(
        EVENTS,
        { events: batch.map((q) => q.event) },
        { token, deviceId: token ? null : deviceId },
      );
      if ('error' in r && (r.error.status === 0 || r.error.status === 429 || r.error.status >= 500)) {
        // Same events, same ids: the collector drops the ones it already counted.
        queue = [...batch, ...queue];
        retryMs = Math.min(MAX_RETRY_MS, retryMs * 2 || delayMs);
        return schedule(retryMs);
      }
      // Any other 4xx would fail again: the batch is dropped.
      retryMs = 0;
    }
  };
  // Sends run one after another: a flush called while one is finishing gets its own turn, so an event
  // pushed at that moment is not left behind.
  const flush = () => {
    cancel();
    // A failure never poisons the chain: every later flush still gets its turn, and flush never rejects.
    sending = sending.then(send).catch(() => {});
    return sending;
  };

  return {
    push(url, referrer, token) {
      if (device.consent() === 'denied') return;
      queue.push({ event: { type: 'pageview', url, referrer, id: uuidv7(), ts: Date.now() }, token });
      if (queue.length >= limit) void flush();
      else schedule(delayMs);
    },
    flush,
    flushNow() {
      cancel();
      while (queue.length && device.consent() === 'granted') {
        const { token, batch } = take();
        const events = batch.map((q) => q.event);
        const deviceId = device.current();
        if (token || !collector.beacon(EVENTS, { deviceId, consent: 'granted', events })) {
          void collector.post(EVENTS, { events }, { token, deviceId: token ? null : deviceId });
        }
      }
    },
    clear() {
      cancel();
      queue = [];
    },
  };
}
