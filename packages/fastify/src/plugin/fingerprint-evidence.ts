/**
 * `app.devicelink.fingerprint()`: the fingerprint evidence of a request's device (docs/protocol.md,
 * Fingerprint joins), as keyed hashes handed to the store.
 */

import type { FastifyRequest } from 'fastify';
import { DeviceLinkUsageError } from '../errors.js';
import type { FingerprintResult } from '../store/device-store.js';
import { networkPrefixes } from '../store/network-prefixes.js';
import { kDeviceState, resolveDevice } from './device-context.js';
import { browserFamily, fingerprintKeys } from './fingerprint-keys.js';
import type { ResolvedOptions } from './plugin-options.js';
import { bodyAutomation, firstValue } from './request-signals.js';
import { automationSignals, type TrafficClassifier } from './traffic-class.js';

/** What `fingerprint()` did with a piece of evidence. Never names another device. */
export type EvidenceResult =
  | FingerprintResult
  /**
   * Not taken: joins are off (no recovery secret), no device work applies (consent, token, route not
   * opted in), the request carried no client id, the fresh id yielded to the cookie (the browser is
   * known already), or the client address is not an IP address.
   */
  | { status: 'off' | 'untracked' | 'yielded' }
  /**
   * Not taken: the user agent or the page's automation signals mark the device as a bot or automation
   * (docs/protocol.md, Bots and automation): no join, no cap counted.
   */
  | { status: 'non-human' };

/** Longest visitorId taken (FingerprintJS's are 32 hex characters). */
const MAX_VISITOR_ID = 128;

/** False when the filter is on and the user agent or the page's signals mark the request. */
function isHumanEvidence(
  traffic: TrafficClassifier | null,
  request: FastifyRequest,
  automation: unknown,
): boolean {
  if (traffic === null) return true;
  const signals = automationSignals(automation ?? bodyAutomation(request.body));
  return traffic.classify(firstValue(request.headers['user-agent']), signals).class === 'human';
}

/** Builds `fingerprint(request, visitorId, automation)` over validated options. */
export function createFingerprint(options: ResolvedOptions) {
  const { store } = options;
  return async function fingerprint(
    request: FastifyRequest,
    visitorId: string,
    automation?: unknown,
  ): Promise<EvidenceResult> {
    // Characters are code points, as the JSON Schema `maxLength` of the collector's route counts them: a
    // visitorId of 128 four-byte characters (256 UTF-16 units) passes that schema and must pass here.
    if (typeof visitorId !== 'string' || visitorId === '' || codePoints(visitorId) > MAX_VISITOR_ID) {
      throw new DeviceLinkUsageError(`fingerprint() needs a visitorId of 1 to ${MAX_VISITOR_ID} characters`);
    }
    const state = request[kDeviceState];
    if (!state?.tracking) {
      throw new DeviceLinkUsageError(
        'fingerprint() needs a route registered with config: { devicelink: true } after the devicelink plugin',
      );
    }
    if (options.recovery === null) return { status: 'off' };
    // The one guard of the fingerprint path: a device its user agent or its page marks as a program
    // makes no join and counts no cap (it never reaches the store's join or cap code).
    if (!isHumanEvidence(options.traffic, request, automation)) return { status: 'non-human' };
    const device = resolveDevice(request);
    if (device === null || device.source === 'server') return { status: 'untracked' };
    // The cookie answered for the minted id: this browser is known, and the fresh id is gone.
    if (device.edge?.kind === 'yield') return { status: 'yielded' };
    const network = networkPrefixes(options.clientIp(request));
    if (network === null) return { status: 'untracked' };
    // The evidence may be the minted id's first request: its join window starts before it is judged.
    const keys = fingerprintKeys(
      options.recovery.secret,
      visitorId,
      network,
      browserFamily(firstValue(request.headers['user-agent'])),
    );
    if (device.minted && !state.mintedNoted) {
      state.mintedNoted = true;
      await store.noteMinted(device.deviceId, keys.place);
    }
    return store.recordFingerprint({ deviceId: device.deviceId, ...keys });
  };
}

/** The number of code points of `s` (a lone surrogate counts as one), as JSON Schema counts length. */
function codePoints(s: string): number {
  // Only strings past the limit in UTF-16 units can differ from `.length` in the answer.
  if (s.length <= MAX_VISITOR_ID) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}
