/**
 * Requests to the collector, with `fetch` (no axios in the core entry) and `sendBeacon`. Under granted
 * consent requests go with `credentials: 'include'` so the `device_fp` cookie works when the collector
 * is on another origin; otherwise with `credentials: 'omit'` and `X-Device-Consent: denied`. Every
 * failure is reported (the DeviceLink's `onError`) besides being answered.
 */
import { CONSENT_HEADER, DEVICE_HEADER, FRESH_HEADER, REPLACES_HEADER } from '@devicelink/protocol';
import { attempt } from './attempt.js';
import type { Consent } from './consent.js';
import type { DeviceIdClient } from './device-id-client.js';
import { CollectorError, type DeviceLinkError } from './errors.js';

/** A collector answer: the parsed JSON body (null when there is none), or why there is no answer. */
export type CollectorResult = { data: unknown } | { error: CollectorError };

/** One request: the bearer token and the device id it carries (either may be null), and how it goes. */
export interface Request {
  token_?: string | null;
  deviceId: string | null;
  /** Default `POST`. */
  method?: string;
  body?: unknown;
  /**
   * Lets the request outlive the page: only for the flush on exit, because browsers cap keepalive
   * bodies in flight at 64 KiB in all and refuse the request beyond.
   */
  keepalive?: boolean;
  /** The consent it goes under (default the current one): the withdrawal's last request goes as granted. */
  consent?: Consent;
}

/** A client for one collector base URL. */
export interface CollectorClient {
  /**
   * Sends a request to `path`; the device id goes in `X-Device-Fingerprint`, with `X-Device-Fresh: 1`
   * while it is fresh (and `X-Device-Replaces` while a replacement is unanswered), and echoes in the
   * answer are offered to the device client. Never rejects: a failure is answered and reported.
   */
  send_(path: string, request: Request): Promise<CollectorResult>;
  /**
   * Sends `body` with `navigator.sendBeacon` (a `text/plain` body; it cannot carry headers, so the body
   * holds the device id and the fresh flag). False when the browser has no beacon or refused it, and
   * when the request needs a header a body must not stand for: the replacement marker, or the explicit
   * grant that overrides GPC (the caller then uses `send_` with `keepalive`).
   */
  beacon_(path: string, body: { deviceId: string | null; [key: string]: unknown }): boolean;
}

/**
 * Creates the client; `base` is the collector's URL, with or without a trailing slash; `report` gets
 * every failed request.
 */
export function createCollectorClient(
  base: string,
  device: DeviceIdClient,
  report: (error: DeviceLinkError) => void,
): CollectorClient {
  const at = (path: string) => base.replace(/\/+$/, '') + path;
  return {
    async send_(
      path,
      { token_: token, deviceId, method = 'POST', body, keepalive, consent = device.consent() },
    ) {
      const headers = device.requestHeaders_(deviceId, consent);
      if (body) headers['Content-Type'] = 'application/json';
      if (token) headers.Authorization = `Bearer ${token}`;
      let error: CollectorError;
      try {
        const res = await fetch(at(path), {
          method,
          headers,
          // No body stays no body: JSON.stringify(undefined) is undefined.
          body: JSON.stringify(body),
          // Without consent the device_fp cookie must not travel either: the collector could link it.
          credentials: consent === 'granted' ? 'include' : 'omit',
          keepalive,
        });
        const data: any = await res.json().catch(() => null);
        // The body's deviceId is read too: a cross-origin response header is hidden unless exposed.
        device.adopt_(res.headers.get(DEVICE_HEADER) ?? data?.deviceId, deviceId, res.ok);
        if (res.ok) return { data };
        error = new CollectorError(`${method} ${path}: HTTP ${res.status}`, res.status);
      } catch (cause) {
        // A rejected fetch: the browser does not say whether the network failed or CORS refused it.
        error = new CollectorError(`${method} ${path}: network error or CORS refusal`, 0, { cause });
      }
      report(error);
      return { error };
    },
    beacon_(path, body) {
      const headers = device.requestHeaders_(body.deviceId);
      if (headers[FRESH_HEADER]) body.fresh = true;
      // The marker only in a header: a cross-site form can post a body, never a custom header.
      return (
        !headers[REPLACES_HEADER] &&
        !headers[CONSENT_HEADER] &&
        attempt(() => navigator.sendBeacon(at(path), JSON.stringify(body))) === true
      );
    },
  };
}
