import { CONSENT_DENIED, CONSENT_GRANTED, CONSENT_HEADER } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodySignals, hasBearerToken, headerFresh, headersDenyConsent } from './request-signals.js';

describe('headersDenyConsent', () => {
  it('is true for X-Device-Consent: denied in any case', () => {
    expect(headersDenyConsent({ 'x-device-consent': ' Denied ' }, true)).toBe(true);
    expect(headersDenyConsent({ 'x-device-consent': 'granted' }, true)).toBe(false);
  });

  it('honours Sec-GPC: 1 only when asked to', () => {
    expect(headersDenyConsent({ 'sec-gpc': '1' }, true)).toBe(true);
    expect(headersDenyConsent({ 'sec-gpc': '1' }, false)).toBe(false);
    expect(headersDenyConsent({ 'sec-gpc': '0' }, true)).toBe(false);
  });

  // The SDK's side of the same rule: packages/sdk/test/gpc.test.ts (the headers it sends under GPC:
  // `X-Device-Consent: denied` by default, CONSENT_GRANTED after an explicit grant).
  it('lets an explicit X-Device-Consent: granted override Sec-GPC: 1, in any case', () => {
    const sdkAfterExplicitGrant = { [CONSENT_HEADER.toLowerCase()]: CONSENT_GRANTED, 'sec-gpc': '1' };
    expect(headersDenyConsent(sdkAfterExplicitGrant, true)).toBe(false);
    const sdkByDefault = { [CONSENT_HEADER.toLowerCase()]: CONSENT_DENIED, 'sec-gpc': '1' };
    expect(headersDenyConsent(sdkByDefault, true)).toBe(true);
    expect(headersDenyConsent({ 'sec-gpc': '1', 'x-device-consent': 'granted' }, true)).toBe(false);
    expect(headersDenyConsent({ 'sec-gpc': '1', 'x-device-consent': ' Granted ' }, true)).toBe(false);
    expect(headersDenyConsent({ 'sec-gpc': '1', 'x-device-consent': ['granted', 'denied'] }, true)).toBe(
      false,
    );
  });

  it('never lets anything but granted override Sec-GPC: 1, and never overrides denied', () => {
    expect(headersDenyConsent({ 'sec-gpc': '1', 'x-device-consent': 'yes' }, true)).toBe(true);
    expect(headersDenyConsent({ 'sec-gpc': '1', 'x-device-consent': '' }, true)).toBe(true);
    expect(headersDenyConsent({ 'sec-gpc': '1', 'x-device-consent': 'denied' }, true)).toBe(true);
    expect(headersDenyConsent({ 'x-device-consent': ['denied', 'granted'] }, true)).toBe(true);
  });
});

describe('headerFresh', () => {
  it('is true only for X-Device-Fresh: 1', () => {
    expect(headerFresh({ 'x-device-fresh': '1' })).toBe(true);
    expect(headerFresh({ 'x-device-fresh': ' 1 ' })).toBe(true);
    expect(headerFresh({ 'x-device-fresh': 'true' })).toBe(false);
    expect(headerFresh({})).toBe(false);
  });
});

describe('hasBearerToken', () => {
  it('needs the Bearer scheme and a token', () => {
    expect(hasBearerToken({ authorization: 'Bearer abc' })).toBe(true);
    expect(hasBearerToken({ authorization: 'bearer abc' })).toBe(true);
    expect(hasBearerToken({ authorization: 'Bearer ' })).toBe(false);
    expect(hasBearerToken({ authorization: 'Basic abc' })).toBe(false);
    expect(hasBearerToken({})).toBe(false);
  });
});

describe('bodySignals', () => {
  it('reads deviceId, consent and the fresh flag from an object or the text of a beacon', () => {
    expect(bodySignals({ deviceId: 'x', consent: 'denied' })).toEqual({
      deviceId: 'x',
      consentDenied: true,
      fresh: false,
    });
    expect(bodySignals('{"deviceId":"y","fresh":true}')).toEqual({
      deviceId: 'y',
      consentDenied: false,
      fresh: true,
    });
    // Only the boolean: a string "true" is not the SDK's flag.
    expect(bodySignals({ deviceId: 'z', fresh: 'true' }).fresh).toBe(false);
  });

  it('never throws, whatever the body', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.json(), fc.string()), (body) => {
        const r = bodySignals(body);
        expect(typeof r.consentDenied).toBe('boolean');
      }),
    );
    const hostile = Object.defineProperty({}, 'deviceId', {
      get() {
        throw new Error('boom');
      },
    });
    expect(bodySignals(hostile)).toEqual({ deviceId: undefined, consentDenied: false, fresh: false });
  });
});
