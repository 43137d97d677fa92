/**
 * `createDeviceLink`: one object that ties the device id, consent, page views and the collector
 * together, and hands HTTP-client glue (the axios entry) what it needs. Creating it is the first
 * moment anything happens: importing the package reads no global and installs nothing.
 */
import { attempt } from './attempt.js';
import { createCollectorClient } from './collector-client.js';
import type { Consent } from './consent.js';
import { createDeviceIdClient, type DeviceIdSource } from './device-id-client.js';
import { CollectorError, DeviceLinkError } from './errors.js';
import { createIdStorage } from './id-storage.js';
import { createOriginCheck } from './origins.js';
import { trackPages } from './page-tracking.js';
import { type BatchOptions, createPageviewQueue } from './pageview-queue.js';

/** Options of {@link createDeviceLink}. */
export interface DeviceLinkOptions {
  /** The collector's base URL, e.g. `https://collect.example.com`. */
  collector: string;
  /** The app's current access token, or nothing while the user is anonymous. Must not block. */
  getToken?: () => string | null | undefined;
  /**
   * Initial consent (default `granted`). Under Global Privacy Control (`navigator.globalPrivacyControl`)
   * `granted` counts as `denied` until the user grants consent in the site's UI (`setConsent('granted')`).
   */
  consent?: Consent;
  /**
   * Origins, besides the page's own and the request's `baseURL` origin, whose requests carry the device
   * header and whose echoes are adopted. Default: the collector's origin.
   */
  origins?: string[];
  /** Send a page view now and after every client-side navigation (default true). */
  autoPageviews?: boolean;
  /** Batching of page views. */
  batch?: BatchOptions;
  /**
   * Query parameters a page URL keeps when it is sent (default the five `utm_*`, as the collector's
   * `QUERY_ALLOWLIST`); the rest, and the fragment, never leave the browser.
   */
  queryAllowlist?: readonly string[];
  /**
   * Receives every failure of the SDK: `CollectorError` for every request that failed (page views, each
   * attempt of a retried batch, the fingerprint evidence, identify, reset, forget, the consent
   * withdrawal; status 0 "network error or CORS refusal" where the browser does not say which),
   * `PageviewsDroppedError` (a batch given up) and `FingerprintError`. Calls that answer `{ error }`
   * report it here too. Must not throw; it is called outside any request path.
   */
  onError?: (error: DeviceLinkError) => void;
}

/** Answer of `POST /v1/identify`, or why there is none. */
export type IdentifyResult =
  | { userId: string; deviceId: string | null; sessionId: string | null }
  | { error: CollectorError };

/** Outcome of `reset()` and `forget()`: done, or the collector's failure (the new id is minted anyway). */
export type ResetResult = { ok: true } | { error: CollectorError };

export type { DeviceIdSource };

/** A running DeviceLink. */
export interface DeviceLink {
  /** Records a page view of `url` (default: the current location); nothing without `window`. */
  pageview(url?: string): void;
  /** Links this device to the user of `token` (`POST /v1/identify`), after sending waiting page views. */
  identify(token: string): Promise<IdentifyResult>;
  /**
   * Changes consent, as the user chose it in the site's consent UI: `granted` sends waiting page views
   * (and overrides Global Privacy Control); leaving `granted` drops them, asks the collector to delete
   * this device's recovery evidence (`DELETE /v1/device/recovery`) and forgets the id; a later grant
   * starts a new id.
   */
  setConsent(consent: Consent): void;
  /** The consent in force (`denied` under Global Privacy Control unless granted by `setConsent`). */
  consent(): Consent;
  /** The device id known right now, or null (consent not granted, no `window`, none adopted yet). */
  deviceId(): string | null;
  /** How the current id came (`minted`, `stored`, `cookie`, `collector`), or null while there is none. */
  deviceIdSource(): DeviceIdSource | null;
  /**
   * Logout on a shared computer: sends waiting page views, forgets the id, has the collector clear its
   * cookie (`DELETE /v1/device/cookie`), then mints a new id that is never fingerprinted and never
   * yields to the old cookie (it goes with `X-Device-Replaces: <old id>` until answered), so the next
   * person is never given or joined to the previous one's id. Requests made meanwhile carry no id.
   */
  reset(): Promise<ResetResult>;
  /**
   * Erases this device at the collector (`DELETE /v1/device`, by its id and cookie), drops waiting page
   * views, then does what `reset()` does.
   */
  forget(): Promise<ResetResult>;
  /** Sends waiting page views now. */
  flush(): Promise<void>;
  /** Stops automatic page views and listeners, sending what waits with a beacon. */
  stop(): void;
  /**
   * For HTTP-client glue: the headers a request to `url` (relative to `baseURL`) carries. None for a
   * third-party origin; the consent header while consent is not granted (or an explicit grant overrides
   * GPC); while `getToken()` gives no token, the request is not `authorized` (its own `Authorization`
   * header) and an id is known, the device header (with `X-Device-Fresh: 1` while it is fresh and
   * `X-Device-Replaces` while a replacement is unanswered).
   */
  headersFor(url?: string, baseURL?: string, authorized?: boolean): Record<string, string>;
  /**
   * For HTTP-client glue: a response to `url` arrived, for a request that carried the device header
   * `sent`, with the device header `echoed`. Adopted per the protocol; ignored for third parties.
   */
  receive(url: string | undefined, baseURL: string | undefined, sent: unknown, echoed: unknown): void;
}

/**
 * Creates a DeviceLink. With `autoPageviews` (default) it sends a page view of the current page and
 * follows client-side navigations; under server-side rendering (no `window`) it only answers.
 *
 * @example
 * const dl = createDeviceLink({ collector: 'https://collect.example.com', getToken: () => auth.token });
 * attachAxios(api, dl);
 */
export function createDeviceLink(options: DeviceLinkOptions): DeviceLink {
  const { collector, getToken, autoPageviews = true, onError } = options;
  if (!/^https?:\/\//.test(collector)) throw new DeviceLinkError('collector must be an http(s) URL');
  // The app's callbacks failing must not break the SDK's own work: a throwing getToken is no token.
  const token = () => attempt(() => getToken?.()) || null;
  const report = (error: DeviceLinkError) => attempt(() => onError?.(error));
  const storage = createIdStorage();
  // stop() aborts it: every listener goes with it, and nothing more is sent but the last flush.
  const stopping = new AbortController();
  const { signal } = stopping;
  const device = createDeviceIdClient(options.consent ?? 'granted', storage, (id) => {
    // First-visit code in its own chunk: a returning visitor never loads it. After stop() it does
    // nothing more: the evidence stays pending for a later page load.
    void import('./evidence.js').then(
      (m) => m.sendEvidence(id, device, client, storage, report, signal),
      report,
    );
  });
  const client = createCollectorClient(collector, device, report);
  const queue = createPageviewQueue(device, client, options.batch ?? {}, options.queryAllowlist, report);
  const allowed = createOriginCheck(options.origins ?? [collector]);
  const win = globalThis.window;
  let last: string | undefined;

  // identify, reset and forget run at a login or a logout, never on a plain page load: their requests
  // are a chunk of its own, imported on the first call. A chunk that cannot be loaded (offline, a
  // deploy that removed it) is answered like an unreachable collector: these calls never reject. Its
  // message is the failed import's own (it names the chunk).
  const identity = <T>(use: (m: typeof import('./identity-requests.js')) => Promise<T>) =>
    import('./identity-requests.js').then(use, (cause: unknown) => {
      const error = new CollectorError(`${cause}`, 0, { cause });
      report(error);
      return { error };
    });
  // The id is forgotten at once (device.replace), before the chunk arrives: from the call on, no
  // request carries the old id.
  const replace = (erase: boolean) =>
    device.replaceId_((old) => identity((m) => m.replaceAtCollector(client, old, erase)));

  const dl: DeviceLink = {
    pageview(url = win?.location.href) {
      // The same URL twice in a row is one view (a router's replaceState of the current entry). A page
      // rendered on a server is viewed when the browser runs it, not before.
      if (signal.aborted || !win || !url || url === last) return;
      // A dropped view (consent denied) is not remembered: after a grant the same page counts.
      if (queue.push(url, last ?? win.document.referrer, token())) last = url;
    },
    identify: (bearer) => identity((m) => m.identify(bearer, queue, device, client)),
    setConsent(next) {
      const old = device.setConsent(next);
      // One last request with the old id (a rare call, so in the identity chunk too): the collector
      // drops its fingerprint entries and edges and its cookie, so nothing can join this browser to its
      // past again. A failure is reported by the client.
      if (old) void identity((m) => m.withdraw(client, old));
      if (next !== 'granted') queue.clear();
      else void queue.flush();
    },
    consent: device.consent,
    deviceId: device.current_,
    deviceIdSource: device.source_,
    async reset() {
      await queue.flush();
      return replace(false);
    },
    forget() {
      queue.clear();
      return replace(true);
    },
    flush: queue.flush,
    stop() {
      if (signal.aborted) return;
      stopping.abort();
      queue.flushNow_();
    },
    headersFor(url, baseURL, authorized) {
      if (!allowed(url, baseURL)) return {};
      return device.requestHeaders_(authorized || token() ? null : device.current_());
    },
    receive(url, baseURL, sent, echoed) {
      if (allowed(url, baseURL)) device.adopt_(echoed, sent);
    },
  };

  if (win) {
    const doc = win.document;
    const away = (e: Event) => {
      if (e.type === 'pagehide' || doc.visibilityState === 'hidden') queue.flushNow_();
    };
    win.addEventListener('pagehide', away, { signal });
    doc.addEventListener('visibilitychange', away, { signal });
    if (autoPageviews) {
      trackPages(() => dl.pageview(), signal);
      dl.pageview();
    }
  }
  return dl;
}
