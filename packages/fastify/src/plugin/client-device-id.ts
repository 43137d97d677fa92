/**
 * The device id a client sent, for an app's own login route (conversion): never a server-tier id,
 * never an invalid value, never anything under denied consent. `convert()` throws on junk ids, so a
 * route that passed the raw header answered 500 to a client sending `null` or `guest`.
 */
import { isValidDeviceId } from '@devicelink/protocol';
import type { FastifyRequest } from 'fastify';
import { readDeviceCookie } from './device-context.js';
import { firstValue, headerFresh, headersDenyConsent } from './request-signals.js';

/** Options of {@link clientDeviceId}. */
export interface ClientDeviceIdOptions {
  /** Treat `Sec-GPC: 1` as consent denied (as the plugin's `honorGpc`). Default true. */
  honorGpc?: boolean;
}

/**
 * The valid `X-Device-Fingerprint` header, else the valid `device_fp` cookie, else null; the cookie
 * first when the header id is marked fresh (`X-Device-Fresh: 1`: a fresh id yields to a valid cookie,
 * docs/protocol.md, Tiered lookup). Null too when
 * the request denies consent (`X-Device-Consent: denied`, or `Sec-GPC: 1` with `honorGpc`). Works on
 * any route, opted in or not; safe to pass to `app.devicelink.convert`.
 *
 * @example
 * const deviceId = clientDeviceId(request);
 * if (deviceId !== null) await app.devicelink.convert(deviceId, userId);
 */
export function clientDeviceId(
  request: FastifyRequest,
  { honorGpc = true }: ClientDeviceIdOptions = {},
): string | null {
  if (headersDenyConsent(request.headers, honorGpc)) return null;
  const header = firstValue(request.headers['x-device-fingerprint']);
  const cookie = readDeviceCookie(request);
  const validCookie = isValidDeviceId(cookie) ? (cookie as string) : null;
  if (isValidDeviceId(header)) {
    return validCookie !== null && headerFresh(request.headers) ? validCookie : (header as string);
  }
  return validCookie;
}
