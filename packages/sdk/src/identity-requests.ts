/**
 * The requests of `identify`, `reset`, `forget` and a consent withdrawal. They run at a login, a logout
 * or a change of consent, never on a plain page load, so this module is a chunk of its own that the DeviceLink imports on the first such call:
 * a returning visitor's page load never downloads it (the core's size budget, README Size).
 */
import type { CollectorClient } from './collector-client.js';
import type { DeviceIdClient } from './device-id-client.js';
import type { IdentifyResult, ResetResult } from './device-link.js';
import { CollectorError } from './errors.js';
import type { PageviewQueue } from './pageview-queue.js';

/**
 * `POST /v1/identify` with the bearer token and the device header, after the waiting page views went
 * (they belong to the anonymous session the link converts) and after any reset under way. Without
 * `window` (a DeviceLink created on a server) nothing is sent: `{ error }` with status 0 says so.
 */
export async function identify(
  bearer: string,
  queue: PageviewQueue,
  device: DeviceIdClient,
  client: CollectorClient,
): Promise<IdentifyResult> {
  // Created on a server (no window): there is no device to link, and the token stays where it is.
  if (!globalThis.window)
    return { error: new CollectorError('identify: no window (server-side rendering), nothing sent', 0) };
  await queue.flush();
  await device.ready_();
  const r = await client.send_('/v1/identify', { body: {}, token_: bearer, deviceId: device.current_() });
  return 'error' in r ? r : (r.data as IdentifyResult);
}

/**
 * The collector's part of reset and forget, for the `old` id being replaced: with `erase` (forget),
 * `DELETE /v1/device` erases the old device first, by its id and cookie; then `DELETE /v1/device/cookie`
 * clears the cookie, so the new id (minted afterwards, never fingerprinted) does not yield to the old
 * cookie. Without an old id (no consent, no window) there is nothing to ask.
 */
export async function replaceAtCollector(
  client: CollectorClient,
  old: string | null,
  erase: boolean,
): Promise<ResetResult> {
  if (!old) return { ok: true };
  const r = erase ? await client.send_('/v1/device', { method: 'DELETE', deviceId: old }) : { data: 0 };
  const c = 'error' in r ? r : await client.send_('/v1/device/cookie', { method: 'DELETE', deviceId: null });
  return 'error' in c ? c : { ok: true };
}

/**
 * The last request of a consent withdrawal, with the `old` id and as if still granted:
 * `DELETE /v1/device/recovery` deletes the device's fingerprint entries and edges at the collector.
 */
export function withdraw(client: CollectorClient, old: string): Promise<ResetResult> {
  return client
    .send_('/v1/device/recovery', { method: 'DELETE', deviceId: old, keepalive: true, consent: 'granted' })
    .then((r) => ('error' in r ? r : { ok: true }));
}
