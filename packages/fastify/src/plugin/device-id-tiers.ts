/**
 * The tiers of the lookup (docs/protocol.md, Tiered lookup) as a pure function over what the
 * request carried; the plugin adds tier 1 (the memo on the request). Invalid values are absent.
 */
import { toDeviceId } from '@devicelink/protocol';
import type { CookieEdge, DeviceSource } from '../store/device-store.js';
import { generateDeviceId } from './device-id-generator.js';
import type { MarkerInput } from './replacement-marker.js';

/** What a request carried, untrusted and unparsed. */
export interface TierInput {
  /** The `X-Device-Fingerprint` header value. */
  header: unknown;
  /** The `deviceId` field of the body (beacons cannot set headers). */
  bodyDeviceId: unknown;
  /** The `device_fp` cookie value. */
  cookie: unknown;
  /** The client marked its id fresh (`X-Device-Fresh: 1` or body `"fresh": true`): minted, not yet answered. */
  fresh: boolean;
  /** The replacement marker the request carried (`replacement-marker.ts`); absent: none. */
  marker?: MarkerInput;
}

/** The tier that answered. */
export interface TierResult {
  deviceId: string;
  source: DeviceSource;
  /**
   * The id that lost to `deviceId`, when the client id and a valid cookie differed: a non-fresh client
   * id beats the cookie (`cookie`, the cookie is rewritten); a fresh one yields to it (`yield`). Null
   * otherwise.
   */
  edge: CookieEdge | null;
  /** `deviceId` is a fresh client id that answered (no other valid cookie): it was just minted. */
  minted: boolean;
  /**
   * Set when the request carried a replacement marker and its client id met a different valid cookie:
   * no edge is reported and the cookie stays, unless `replaces` (the cookie, which the marker named on
   * an eligible request) is confirmed by the store as a replacement.
   */
  marker?: { replaces: string | null };
}

/**
 * Runs tiers 2 to 4: the client's id (header, else body) and the cookie, decided by the fresh flag,
 * then a new server id.
 *
 * @example
 * resolveTiers({ header: 'abc…', bodyDeviceId: undefined, cookie: 'xyz…', fresh: true })
 * // { deviceId: 'xyz…', source: 'cookie', edge: { kind: 'yield', deviceId: 'xyz…', otherId: 'abc…' }, minted: false }
 */
export function resolveTiers(input: TierInput, generate: () => string = generateDeviceId): TierResult {
  const cookie = toDeviceId(input.cookie);
  const sent = toDeviceId(input.header) ?? toDeviceId(input.bodyDeviceId);
  const fresh = input.fresh === true;
  if (sent !== null) {
    if (cookie === null || cookie === sent) {
      return { deviceId: sent, source: 'header', edge: null, minted: fresh };
    }
    if (input.marker !== undefined && input.marker.id !== undefined) {
      const fromHeader = toDeviceId(input.header) === sent;
      return markedTiers(
        sent,
        cookie,
        fresh,
        input.marker.eligible && fromHeader ? input.marker.id : undefined,
      );
    }
    // A valid cookie beats a fresh id on every request, and a fresh id never rewrites it: this is how a
    // browser that lost only localStorage keeps its id, whichever request arrives first.
    if (fresh) {
      return {
        deviceId: cookie,
        source: 'cookie',
        edge: { kind: 'yield', deviceId: cookie, otherId: sent },
        minted: false,
      };
    }
    return {
      deviceId: sent,
      source: 'header',
      edge: { kind: 'cookie', deviceId: sent, otherId: cookie },
      minted: false,
    };
  }
  if (cookie !== null) return { deviceId: cookie, source: 'cookie', edge: null, minted: false };
  return { deviceId: generate(), source: 'server', edge: null, minted: false };
}

/**
 * A client id meeting a different cookie under a replacement marker: the two ids are two people (the
 * new one after a reset), so no edge ties them whatever else holds. A non-fresh id answers and may
 * replace the cookie when an eligible marker (`eligibleId`: from the header, on a non-simple request
 * whose client id came in the header too) names it; a fresh id yields as always.
 */
function markedTiers(sent: string, cookie: string, fresh: boolean, eligibleId: unknown): TierResult {
  if (fresh)
    return { deviceId: cookie, source: 'cookie', edge: null, minted: false, marker: { replaces: null } };
  const replaces = toDeviceId(eligibleId) === cookie ? cookie : null;
  return { deviceId: sent, source: 'header', edge: null, minted: false, marker: { replaces } };
}
