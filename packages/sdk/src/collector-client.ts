/**
 * Requests to the collector, with `fetch` (no axios in the core entry) and `sendBeacon`. Under granted
 * consent requests go with `credentials: 'include'` so the `device_fp` cookie works when the collector
 * is on another origin; otherwise with `credentials: 'omit'` and `X-Device-Consent: denied`.
 */
import { DEVICE_HEADER } from '@devicelink/protocol';
import { consentHeaders } from './consent.js';
import type { DeviceIdClient } from './device-id-client.js';
import { CollectorError } from './errors.js';

/** A collector answer: the parsed JSON body (null when there is none), or why there is no answer. */
export type CollectorResult = { data: unknown } | { error: CollectorError };

/** Credentials of one request: the bearer token and the device id it carries (either may be null). */
export interface Credentials {
  token: string | null;
  deviceId: string | null;
}

/** A client for one collector base URL. */
export interface CollectorClient {
  /**
   * POSTs JSON to `path`; echoes in the answer are offered to the device client. Never rejects.
   * `keepalive` lets the request outlive the page: only for the flush on exit, because browsers cap
   * keepalive bodies in flight at 64 KiB in all and refuse the request beyond.
   */
  post(path: string, body: unknown, credentials: Credentials, keepalive?: boolean): Promise<CollectorResult>;
  /**
   * Sends `body` with `navigator.sendBeacon` (a `text/plain` body; it cannot carry headers, so the body
   * must hold the device id). False when the browser has no beacon or refused it.
   */
  beacon(path: string, body: unknown): boolean;
}

/** Creates the client; `base` is the collector's URL, with or without a trailing slash. */
export function createCollectorClient(base: string, device: DeviceIdClient): CollectorClient {
  const at = (path: string) => base.replace(/\/+$/, '') + path;
  return {
    async post(path, body, { token, deviceId }, keepalive) {
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        ...consentHeaders(device.consent()),
      };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (deviceId) headers[DEVICE_HEADER] = deviceId;
      try {
        const res = await fetch(at(path), {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          // Without consent the device_fp cookie must not travel either: the collector could link it.
          credentials: device.consent() === 'granted' ? 'include' : 'omit',
          keepalive,
        });
        const data: any = await res.json().catch(() => null);
        // The body's deviceId is read too: a cross-origin response header is hidden unless exposed.
        device.adopt(res.headers.get(DEVICE_HEADER) ?? data?.deviceId, deviceId);
        return res.ok
          ? { data }
          : { error: new CollectorError(`collector answered ${res.status}`, res.status) };
      } catch (cause) {
        return { error: new CollectorError('collector unreachable', 0, { cause }) };
      }
    },
    beacon(path, body) {
      try {
        return globalThis.navigator.sendBeacon(at(path), JSON.stringify(body));
      } catch {
        return false;
      }
    },
  };
}
