/**
 * The tiers of the lookup (docs/protocol.md, Tiered lookup) as a pure function over what the
 * request carried; the plugin adds tier 1 (the memo on the request). Invalid values are absent.
 */
import { toDeviceId } from '@devicelink/protocol';
import type { DeviceSource } from '../store/device-store.js';
import { generateDeviceId } from './device-id-generator.js';

/** What a request carried, untrusted and unparsed. */
export interface TierInput {
  /** The `X-Device-Fingerprint` header value. */
  header: unknown;
  /** The `deviceId` field of the body (beacons cannot set headers). */
  bodyDeviceId: unknown;
  /** The `device_fp` cookie value. */
  cookie: unknown;
}

/** The tier that answered. */
export interface TierResult {
  deviceId: string;
  source: DeviceSource;
  /**
   * A valid cookie id that lost to a different client id: the cookie is rewritten and the pair is
   * recorded as an alias. Null otherwise.
   */
  aliasOf: string | null;
}

/**
 * Runs tiers 2 to 4: the client's id (header, else body), the cookie, a new server id.
 *
 * @example
 * resolveTiers({ header: 'abc…', bodyDeviceId: undefined, cookie: 'xyz…' })
 * // { deviceId: 'abc…', source: 'header', aliasOf: 'xyz…' }
 */
export function resolveTiers(input: TierInput, generate: () => string = generateDeviceId): TierResult {
  const cookie = toDeviceId(input.cookie);
  const sent = toDeviceId(input.header) ?? toDeviceId(input.bodyDeviceId);
  if (sent !== null) {
    return { deviceId: sent, source: 'header', aliasOf: cookie !== null && cookie !== sent ? cookie : null };
  }
  if (cookie !== null) return { deviceId: cookie, source: 'cookie', aliasOf: null };
  return { deviceId: generate(), source: 'server', aliasOf: null };
}
