/**
 * What a request says about consent and the device, read defensively: any header or body a client
 * sends, of any type, gives a value or "absent", never an exception.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { CONSENT_GRANTED, isConsentDenied, MAX_BODY_BYTES } from '@devicelink/protocol';

/**
 * True for `X-Device-Consent: denied`, or `Sec-GPC: 1` when GPC is honoured, unless the request says
 * `X-Device-Consent: granted`: the SDK sends that only after the user granted consent explicitly in the
 * site's consent UI, which overrides the browser-wide GPC signal (docs/protocol.md, Consent and GPC).
 */
export function headersDenyConsent(headers: IncomingHttpHeaders, honorGpc: boolean): boolean {
  const consent = firstValue(headers['x-device-consent']);
  if (isConsentDenied(consent)) return true;
  if (typeof consent === 'string' && consent.trim().toLowerCase() === CONSENT_GRANTED) return false;
  // Global Privacy Control: https://privacycg.github.io/gpc-spec/ (the only valid value is "1").
  return honorGpc && firstValue(headers['sec-gpc'])?.trim() === '1';
}

/** True when the request carries `Authorization: Bearer …`. */
export function hasBearerToken(headers: IncomingHttpHeaders): boolean {
  return /^bearer\s+\S/i.test(firstValue(headers.authorization) ?? '');
}

/** The fields of an events body the lookup needs; unknown, unparsed or odd bodies give nothing. */
export interface BodySignals {
  deviceId: unknown;
  consentDenied: boolean;
  /** `"fresh": true` (a sendBeacon body cannot carry `X-Device-Fresh`). */
  fresh: boolean;
  /** A `replaces` field: a replacement marker in a body, which never moves the cookie. */
  replaces: unknown;
}

const NONE: BodySignals = { deviceId: undefined, consentDenied: false, fresh: false, replaces: undefined };

/**
 * The page's automation signals of a body (`"automation": ["webdriver", …]`), unchecked; undefined
 * when there are none. Reads that one field only (the lookup reads the others once, elsewhere), and
 * parses a beacon's text only when it names the field.
 */
export function bodyAutomation(body: unknown): unknown {
  let value = body;
  if (typeof value === 'string') {
    if (value.length > MAX_BODY_BYTES || !value.includes('"automation"')) return undefined;
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  try {
    return (value as Record<string, unknown>).automation;
  } catch {
    return undefined;
  }
}

/** True for `X-Device-Fresh: 1`: the client id was minted and not yet answered. */
export function headerFresh(headers: IncomingHttpHeaders): boolean {
  return firstValue(headers['x-device-fresh'])?.trim() === '1';
}

/**
 * Reads `deviceId` and `consent` from a body: an object (JSON, or a beacon the route parsed), or the
 * raw text of a `text/plain` beacon the app left unparsed.
 */
export function bodySignals(body: unknown): BodySignals {
  let value = body;
  if (typeof value === 'string') {
    if (value.length > MAX_BODY_BYTES || !value.trimStart().startsWith('{')) return NONE;
    try {
      value = JSON.parse(value);
    } catch {
      return NONE;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return NONE;
  try {
    const record = value as Record<string, unknown>;
    return {
      deviceId: record.deviceId,
      consentDenied: isConsentDenied(record.consent),
      fresh: record.fresh === true,
      replaces: record.replaces,
    };
  } catch {
    // A body object with throwing getters (an app's own parser) is as good as no body.
    return NONE;
  }
}

/** The first value of a header Node may hand over as an array. */
export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
