/**
 * What the identity benchmark records while the simulated browsers run: the ground truth (which
 * browser made which request, what it had stored) and what went over the wire. Both designs are
 * judged on this log: ours through what the collector reports, the old one by replaying it.
 */
import type { DeviceSettings } from './sim-browser.js';

/** One request of a browser to the collector. */
export interface WireRequest {
  method: string;
  /** The URL path (`/v1/events`, `/v1/device/fingerprint`, `/v1/identify`). */
  path: string;
  /** When it left the browser, ms since the Unix epoch (Chromium's timing). */
  start: number;
  /** When its answer ended, same clock; null when it failed. */
  end: number | null;
  /** When the answer's first byte arrived (the collector had decided), same clock; null when none did. */
  answeredAt: number | null;
  status: number | null;
  /** `X-Device-Fingerprint` it carried (or the body's `deviceId` of a beacon). */
  sentId: string | null;
  fresh: boolean;
  /** `X-Device-Fingerprint` of the answer. */
  echoed: string | null;
  /** The `status` field of a JSON answer (the evidence is always answered `received`). */
  answer: string | null;
  /** Page view event ids (for `/v1/events`). */
  eventIds: string[];
  /** The FingerprintJS visitorId (for the evidence request). */
  visitorId: string | null;
  /** The user of an identify's token. */
  userId: string | null;
}

/** What a visit started with, as the harness arranged it. */
export interface StoresBefore {
  localStorage: boolean;
  cookie: boolean;
}

/** One page load of a browser (and the client-side navigations in it). */
export interface Visit {
  browser: string;
  /** The phase of the run it belongs to (`first`, `return`, `cleared`, ...). */
  phase: string;
  cpuRate: number;
  settings: DeviceSettings;
  before: StoresBefore;
  /** Navigation start of the page, ms since the Unix epoch. */
  navigationStart: number;
  requests: WireRequest[];
  /** The SDK's id and `deviceIdSource()` when the visit ended. */
  idAfter: string | null;
  sourceAfter: string | null;
  /** Errors the SDK reported through `onError`. */
  errors: string[];
}

/** A simulated browser and everything it did. */
export interface BrowserRecord {
  key: string;
  /** What it is there to test (`both-cleared`, `twin-a`, ...). */
  role: string;
  /** The population it belongs to (`identical-apart`, `distinct`, `twins`, `throttled`, `cross-site`). */
  population: string;
  /** Browsers with the same key here were given identical settings. */
  settingsGroup: string;
  /** The /24 network the collector sees (`10.1.3`). */
  network: string;
  /** The twin on the same network, for twins. */
  twin: string | null;
  /** Whether its collector is on another site than the app. */
  crossSite: boolean;
  /** The user it logs in as, if it logs in. */
  userId: string | null;
  visits: Visit[];
}
