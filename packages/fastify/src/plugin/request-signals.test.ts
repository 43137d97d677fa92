import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodySignals, hasBearerToken, headersDenyConsent } from './request-signals.js';

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
  it('reads deviceId and consent from an object or the text of a beacon', () => {
    expect(bodySignals({ deviceId: 'x', consent: 'denied' })).toEqual({ deviceId: 'x', consentDenied: true });
    expect(bodySignals('{"deviceId":"y"}')).toEqual({ deviceId: 'y', consentDenied: false });
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
    expect(bodySignals(hostile)).toEqual({ deviceId: undefined, consentDenied: false });
  });
});
