/**
 * `createDeviceLink`: one object that ties the device id, consent, page views and the collector
 * together, and hands HTTP-client glue (the axios entry) what it needs. Creating it is the first
 * moment anything happens: importing the package reads no global and installs nothing.
 */
import { DEVICE_HEADER } from '@devicelink/protocol';
import { createCollectorClient } from './collector-client.js';
import { type Consent, consentHeaders } from './consent.js';
import { createDeviceIdClient } from './device-id-client.js';
import { type CollectorError, DeviceLinkError } from './errors.js';
import { createOriginCheck } from './origins.js';
import { trackPages } from './page-tracking.js';
import { type BatchOptions, createPageviewQueue } from './pageview-queue.js';

/** Options of {@link createDeviceLink}. */
export interface DeviceLinkOptions {
  /** The collector's base URL, e.g. `https://collect.example.com`. */
  collector: string;
  /** The app's current access token, or nothing while the user is anonymous. Must not block. */
  getToken?: () => string | null | undefined;
  /** Initial consent (default `granted`); change it later with `setConsent`. */
  consent?: Consent;
  /**
   * Origins, besides the page's own and the request's `baseURL` origin, whose requests carry the device
   * header and whose echoes are adopted. Default: the collector's origin.
   */
  origins?: string[];
  /** How long the SDK's own first call waits for the fingerprint, ms (default 200). */
  waitMs?: number;
  /** Send a page view now and after every client-side navigation (default true). */
  autoPageviews?: boolean;
  /** Batching of page views. */
  batch?: BatchOptions;
}

/** Answer of `POST /v1/identify`, or why there is none. */
export type IdentifyResult =
  | { userId: string; deviceId: string | null; sessionId: string | null }
  | { error: CollectorError };

/** A running DeviceLink. */
export interface DeviceLink {
  /** Records a page view of `url` (default: the current location). */
  pageview(url?: string): void;
  /** Links this device to the user of `token` (`POST /v1/identify`), after sending waiting page views. */
  identify(token: string): Promise<IdentifyResult>;
  /** Changes consent: `granted` sends waiting page views, `denied` drops them and forgets the id. */
  setConsent(consent: Consent): void;
  /** The current consent. */
  consent(): Consent;
  /** The device id known right now, or null (none yet, or consent not granted). Never waits. */
  deviceId(): string | null;
  /** Sends waiting page views now. */
  flush(): Promise<void>;
  /** Stops automatic page views and listeners, sending what waits with a beacon. */
  stop(): void;
  /**
   * For HTTP-client glue: the headers a request to `url` (relative to `baseURL`) carries. None for a
   * third-party origin; the consent header while consent is not granted; the device header while
   * `getToken()` gives no token and an id is known.
   */
  headersFor(url?: string, baseURL?: string): Record<string, string>;
  /**
   * For HTTP-client glue: a response to `url` arrived, for a request that carried the device header
   * `sent`, with the device header `echoed`. Adopted per the contract; ignored for third parties.
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
  const { collector, getToken, waitMs = 200, autoPageviews = true } = options;
  if (!/^https?:\/\//.test(collector)) throw new DeviceLinkError('collector must be an http(s) URL');
  const token = () => {
    try {
      return getToken?.() || null;
    } catch {
      return null;
    }
  };
  const device = createDeviceIdClient(options.consent ?? 'granted');
  const client = createCollectorClient(collector, device);
  const queue = createPageviewQueue(device, client, waitMs, options.batch);
  const allowed = createOriginCheck(options.origins ?? [collector]);
  const win = typeof window === 'undefined' ? undefined : window;
  let last: string | undefined;
  let stopped = false;
  const cleanups: (() => void)[] = [];

  const dl: DeviceLink = {
    pageview(url = win?.location.href) {
      // The same URL twice in a row is one view (a router's replaceState of the current entry).
      if (stopped || !url || url === last) return;
      // A dropped view (consent denied) is not remembered: after a grant the same page counts.
      if (queue.push(url, last ?? (win?.document.referrer || undefined), token())) last = url;
    },
    async identify(bearer) {
      await queue.flush();
      const r = await client.post(
        '/v1/identify',
        {},
        { token: bearer, deviceId: await device.ready(waitMs) },
      );
      return 'error' in r ? r : (r.data as IdentifyResult);
    },
    setConsent(next) {
      device.setConsent(next);
      if (next === 'denied') queue.clear();
      if (next === 'granted') void queue.flush();
    },
    consent: device.consent,
    deviceId: device.current,
    flush: queue.flush,
    stop() {
      if (stopped) return;
      stopped = true;
      for (const c of cleanups) c();
      queue.flushNow();
    },
    headersFor(url, baseURL) {
      if (!allowed(url, baseURL)) return {};
      const headers = consentHeaders(device.consent());
      const id = token() ? null : device.current();
      if (id) headers[DEVICE_HEADER] = id;
      return headers;
    },
    receive(url, baseURL, sent, echoed) {
      if (allowed(url, baseURL)) device.adopt(echoed, sent);
    },
  };

  if (win) {
    const doc = win.document;
    const away = (e: Event) => {
      if (e.type === 'pagehide' || doc.visibilityState === 'hidden') queue.flushNow();
    };
    win.addEventListener('pagehide', away);
    doc.addEventListener('visibilitychange', away);
    cleanups.push(() => {
      win.removeEventListener('pagehide', away);
      doc.removeEventListener('visibilitychange', away);
    });
    if (autoPageviews) {
      cleanups.push(trackPages(() => dl.pageview()));
      dl.pageview();
    }
  }
  return dl;
}
