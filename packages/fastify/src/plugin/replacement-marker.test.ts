import { describe, expect, it } from 'vitest';
import { replacementMarker, simpleContentType } from './replacement-marker.js';

describe('replacementMarker', () => {
  it('takes the header on a request whose content type is not CORS-simple', () => {
    expect(
      replacementMarker({ 'x-device-replaces': ' old ', 'content-type': 'application/json' }, undefined),
    ).toEqual({
      id: 'old',
      eligible: true,
    });
    expect(replacementMarker({ 'x-device-replaces': 'old' }, undefined)).toEqual({
      id: 'old',
      eligible: true,
    });
  });

  it('a form, text/plain or beacon body marker is carried but never eligible', () => {
    for (const type of [
      'text/plain;charset=UTF-8',
      'Application/X-WWW-Form-Urlencoded',
      'multipart/form-data; boundary=z',
    ]) {
      expect(simpleContentType({ 'content-type': type })).toBe(true);
      expect(
        replacementMarker({ 'x-device-replaces': 'old', 'content-type': type }, undefined).eligible,
      ).toBe(false);
    }
    expect(replacementMarker({}, 'old')).toEqual({ id: 'old', eligible: false });
    expect(replacementMarker({ 'x-device-replaces': '' }, null)).toEqual({ id: undefined, eligible: false });
  });
});
