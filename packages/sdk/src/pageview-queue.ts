/**
 * Page views waiting to be sent, in batches. Every event gets its UUIDv7 `id` when it is recorded and
 * keeps it through retries, so the collector counts a retried event once. Page views made while the app
 * had a token are sent with that token (authenticated events) and never batched with anonymous ones.
 */
import { type AutomationSignal, MAX_EVENTS_PER_REQUEST, type PageviewInput } from '@devicelink/protocol';
import type { CollectorClient } from './collector-client.js';
import type { DeviceIdClient } from './device-id-client.js';
import { type DeviceLinkError, PageviewsDroppedError } from './errors.js';
import { eventId } from './event-id.js';
import { originOf } from './origins.js';
import { pageUrl } from './page-url.js';

/** Batching options. */
export interface BatchOptions {
  /** Send as soon as this many page views wait (default 10, at most 100; 1 sends each at once). */
  size?: number;
  /** Otherwise send this long after the first one waits, ms (default 1000). */
  delayMs?: number;
}

/** The queue of one DeviceLink. */
export interface PageviewQueue {
  /**
   * Records a page view; sent later, or kept while consent is pending. False when it is dropped:
   * consent denied, or a URL longer than the collector accepts. At most 500 wait; beyond, the oldest go.
   * Of `referrer` (empty or absent for none) only the origin is sent.
   */
  push(url: string, referrer: string | undefined, token: string | null): boolean;
  /** Sends everything waiting (when consent is granted); resolves when done or failed. */
  flush(): Promise<void>;
  /** Sends everything waiting right now, with a beacon where it can: the page is going away. */
  flushNow_(): void;
  /** Drops everything waiting and cancels timers. */
  clear(): void;
}

interface Queued {
  event_: PageviewInput;
  token_: string | null;
}

const EVENTS = '/v1/events';

/** Creates the queue. */
export function createPageviewQueue(
  device: DeviceIdClient,
  collector: CollectorClient,
  { size = 10, delayMs = 1000 }: BatchOptions,
  queryAllowlist: readonly string[] | undefined,
  report: (error: DeviceLinkError) => void,
): PageviewQueue {
  // Numbers declared here, in the function, so the minifier writes them where they are used.
  const MAX_RETRY_MS = 30_000;
  // Bounds for a collector that never answers (an ad blocker, a CORS mistake): memory stays small and
  // a batch is given up after this many attempts.
  const MAX_QUEUED = 500;
  const MAX_TRIES = 8;
  // A request's events stay under the collector's 64 KiB body limit, with room for the envelope.
  const MAX_BATCH_BYTES = 61_440; // 60 KiB
  const limit = Math.min(size, MAX_EVENTS_PER_REQUEST);
  let queue: Queued[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending = Promise.resolve();
  let retryMs = 0;
  // Failed attempts of the batch at the head of the queue.
  let tries = 0;
  // The page's automation signals (docs/protocol.md, Bots and automation), from a chunk of their own
  // loaded once per page: `{ automation: [...] }` rides with every request, so a driven browser's page
  // views are stored as automation. Requests wait for it (a beacon takes what is known); a chunk that
  // cannot be loaded adds nothing.
  let signals: { automation?: AutomationSignal[] } = {};
  const known = import('./automation-signals.js').then(
    (m) => {
      signals = m.automationField();
    },
    () => {},
  );

  const cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const schedule = (ms: number) => {
    if (timer === undefined && device.consent() === 'granted') timer = setTimeout(flush, ms);
  };
  // The leading run of events that share one token, at most one request's worth (count and bytes): the
  // token, the entries taken and their events.
  const take = (): [string | null, Queued[], PageviewInput[]] => {
    const token = queue[0]!.token_;
    let n = 0;
    for (let bytes = 0; n < MAX_EVENTS_PER_REQUEST && queue[n]?.token_ === token; n++) {
      // Characters are bytes: pageUrl percent-encodes a URL, and a referrer is an ASCII origin.
      bytes += JSON.stringify(queue[n]!.event_).length + 1;
      if (bytes > MAX_BATCH_BYTES) break;
    }
    const batch = queue.splice(0, n || 1);
    return [token, batch, batch.map((q) => q.event_)];
  };
  const post = (token: string | null, events: PageviewInput[], keepalive?: boolean) =>
    collector.send_(EVENTS, {
      body: { ...signals, events },
      token_: token,
      deviceId: token ? null : device.current_(),
      keepalive,
    });

  const sendable = () => queue.length && device.consent() === 'granted';
  const send = async () => {
    while (sendable()) {
      // A reset under way: its new id comes first; the page's automation signals go with the first request.
      await device.ready_();
      await known;
      // While it waited, the page may have gone away (flushNow) or consent been withdrawn (clear).
      if (!sendable()) return;
      const [token, batch, events] = take();
      const r = await post(token, events);
      if ('error' in r) {
        // Unreachable (status 0), rate-limited or a server error: worth another try.
        if (/^(0|429|5..)$/.test(`${r.error.status}`) && ++tries < MAX_TRIES) {
          // Same events, same ids: the collector drops the ones it already counted. (With pushes during
          // the request the queue may hold one batch more than MAX_QUEUED for a while.)
          queue = [...batch, ...queue];
          retryMs = Math.min(MAX_RETRY_MS, retryMs * 2 || delayMs);
          return schedule(retryMs);
        }
        // Any other 4xx (it would fail again), or out of attempts: given up, and the app is told.
        report(new PageviewsDroppedError(batch.length, r.error));
      }
      retryMs = tries = 0;
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
      // What the collector would drop does not leave the browser: the fragment, query parameters
      // outside the allowlist, and of a referrer all but its origin.
      const clean = pageUrl(url, queryAllowlist);
      // Denied, or a URL the collector would refuse (and with it the whole batch): dropped.
      if (device.consent() === 'denied' || !clean) return false;
      const ts = Date.now();
      const event: PageviewInput = {
        type: 'pageview',
        url: clean,
        referrer: (referrer && originOf(referrer)) || undefined,
        id: eventId(ts),
        ts,
      };
      if (queue.push({ event_: event, token_: token }) > MAX_QUEUED) queue.shift();
      // While a retry is scheduled its backoff stands: a full batch waits for it too.
      if (queue.length >= limit && !retryMs) void flush();
      else schedule(delayMs);
      return true;
    },
    flush,
    flushNow_() {
      cancel();
      while (sendable()) {
        const [token, , events] = take();
        const body = { deviceId: device.current_(), consent: 'granted', ...signals, events };
        if (token || !collector.beacon_(EVENTS, body)) {
          void post(token, events, true);
        }
      }
    },
    clear() {
      cancel();
      queue = [];
    },
  };
}
