/**
 * The device id a client names itself: the `X-Device-Fingerprint` header, else the `device_fp` cookie
 * (../shared/CONTRACT.md, Tiered lookup, tiers 2 and 3). Never a server-made id; invalid values are absent.
 */
import { DEVICE_COOKIE, DEVICE_HEADER, toDeviceId } from '@devicelink/protocol';
import type {} from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';

/** The valid device id from the header, else from the cookie, else null. */
export function clientDeviceId(request: FastifyRequest): string | null {
  const header = request.headers[DEVICE_HEADER.toLowerCase()];
  const fromHeader = toDeviceId(Array.isArray(header) ? header[0] : header);
  if (fromHeader) return fromHeader;
  return toDeviceId(request.cookies?.[DEVICE_COOKIE]);
}
