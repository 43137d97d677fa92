/** Names both sides of the wire agree on (docs/protocol.md, Names). */

/** Request and response header carrying the device id. */
export const DEVICE_HEADER = 'X-Device-Fingerprint';
/**
 * Consent header the SDK adds to every request while consent is not granted (`denied`), and while an
 * explicit grant overrides Global Privacy Control (`granted`).
 */
export const CONSENT_HEADER = 'X-Device-Consent';
/** The only value of {@link CONSENT_HEADER}; also accepted as `"consent":"denied"` in an events body. */
export const CONSENT_DENIED = 'denied';
/**
 * Value of {@link CONSENT_HEADER} the SDK sends while `navigator.globalPrivacyControl` is on and the
 * user has granted consent explicitly in the site's consent UI (`setConsent('granted')`): that grant
 * overrides `Sec-GPC: 1` at the collector and in the plugin (docs/protocol.md, Consent and GPC).
 */
export const CONSENT_GRANTED = 'granted';
/**
 * Request header (value `1`; `"fresh": true` in a sendBeacon body) marking a device id the SDK minted
 * and the collector has not yet answered: a fresh id yields to a valid `device_fp` cookie (docs/protocol.md).
 */
export const FRESH_HEADER = 'X-Device-Fresh';
/**
 * Request header naming the id a `reset()`, `forget()` or re-granted consent replaced, sent (fetch
 * only, never in a beacon) with the new id until one request is answered 2xx: a host rewrites its
 * `device_fp` cookie to the new id only when this equals the request's cookie (docs/protocol.md).
 */
export const REPLACES_HEADER = 'X-Device-Replaces';

/**
 * True when a consent value (the header or the body field) says denied: compared without case and
 * surrounding blanks, so `Denied` and ` DENIED ` in a body mean what they mean in the header.
 */
export function isConsentDenied(value: unknown): boolean {
  return typeof value === 'string' && value.trim().toLowerCase() === CONSENT_DENIED;
}
/** Cookie holding the device id. */
export const DEVICE_COOKIE = 'device_fp';
/** 400 days: the longest cookie lifetime browsers honour. */
export const DEVICE_COOKIE_MAX_AGE = 34_560_000;
/** localStorage key of the SDK's stored device id. */
export const STORAGE_KEY = 'devicelink:device-id';
/** Default number of queue partitions (`QUEUE_PARTITIONS`). */
export const DEFAULT_QUEUE_PARTITIONS = 64;
/** Default sliding idle timeout of an anonymous session, seconds. */
export const DEFAULT_SESSION_IDLE_SECONDS = 1800;
/** Default hard cap on a session's age, seconds. */
export const DEFAULT_SESSION_MAX_SECONDS = 86_400;
/** How long an event id is remembered so a retry counts once, seconds. */
export const EVENT_DEDUPE_SECONDS = 600;
/** How long an erased device or user stays erased for queued and late events, seconds (30 days). */
// Constants are plain literals: esbuild keeps an unused `30 * 86_400` in a bundle (the SDK's core).
export const TOMBSTONE_SECONDS = 2_592_000;
