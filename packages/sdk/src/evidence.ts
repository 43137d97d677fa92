/**
 * The fingerprint as evidence (docs/protocol.md, SDK): for an id minted on a first visit (or after
 * storage was lost), once the collector answered that it stands (not yielded to a cookie), FingerprintJS runs once and its visitorId goes once, in a request of its own,
 * `POST {collector}/v1/device/fingerprint`, never to the app's API. The collector may use it for a
 * revocable join to the device this browser had before; it never answers with another device's id.
 * Until it has been sent, `devicelink:fp-pending` holds the minted id, so a page closed before the
 * fingerprint finished sends it on a later load. This module is a chunk of its own, loaded only then.
 */
import type { CollectorClient } from './collector-client.js';
import type { DeviceIdClient } from './device-id-client.js';
import type { DeviceLinkError } from './errors.js';
import { createFingerprint, type FingerprintResult } from './fingerprint.js';
import { type IdStorage, PENDING_KEY } from './id-storage.js';

/** The path of the evidence request. */
const EVIDENCE_PATH = '/v1/device/fingerprint';

/**
 * Computes the fingerprint and sends it for `id`, unless meanwhile the id changed (it yielded to the
 * cookie, a reset, consent withdrawn): the pending marker must still name it. Sent, or refused for
 * good (a 4xx), the marker goes; unreachable, rate-limited or a server error, it stays for a later load.
 * Failures go to `report`; nothing rejects. The rest is the DeviceLink that minted the id; its `signal`
 * aborts once it is stopped: nothing more is sent, the evidence stays pending. (Arguments, not an
 * object: their names would stay in the core's code, which passes them.)
 */
export async function sendEvidence(
  id: string,
  device: DeviceIdClient,
  client: CollectorClient,
  storage: IdStorage,
  report: (error: DeviceLinkError) => void,
  signal: AbortSignal,
  fingerprint: () => Promise<FingerprintResult> = createFingerprint(),
): Promise<void> {
  // Stopped while this chunk loaded: FingerprintJS is not even loaded, the evidence stays pending.
  if (signal.aborted) return;
  const result = await fingerprint();
  if (signal.aborted || device.current_() !== id || storage.get(PENDING_KEY) !== id) return;
  if ('error' in result) {
    // A blocked fingerprint would fail again: no later page load loads FingerprintJS for it.
    storage.remove(PENDING_KEY);
    return report(result.error);
  }
  // The page's automation signals ride along (their own chunk): a driven browser makes no join.
  // `fresh`: the id was minted here (only such an id is pending), so the collector notes it as minted
  // now if the note of its first answer was lost (a store timeout); without it the join is lost.
  const body = {
    visitorId: result.id,
    deviceId: id,
    fresh: true,
    ...(await import('./automation-signals.js')).automationField(),
  };
  const r = await client.send_(EVIDENCE_PATH, { deviceId: id, body });
  // A failed send was reported by the client.
  if (!('error' in r) || !/^(0|429|5..)$/.test(`${r.error.status}`)) storage.remove(PENDING_KEY);
}
