import { describe, expect, it } from 'vitest';
import { mergeVary, privateCacheControl } from './response-headers.js';

const OURS = ['X-Device-Fingerprint', 'Cookie'];

describe('mergeVary', () => {
  it('sets ours when there is none', () => {
    expect(mergeVary(undefined, OURS)).toBe('X-Device-Fingerprint, Cookie');
  });

  it('appends to an existing Vary without duplicates, whatever the case or form', () => {
    expect(mergeVary('Origin, cookie', OURS)).toBe('Origin, cookie, X-Device-Fingerprint');
    expect(mergeVary(['Accept-Encoding', 'Origin'], OURS)).toBe(
      'Accept-Encoding, Origin, X-Device-Fingerprint, Cookie',
    );
  });

  it('keeps Vary: * as it is', () => {
    expect(mergeVary('*', OURS)).toBe('*');
  });
});

describe('privateCacheControl', () => {
  it.each([
    [undefined, 'private'],
    ['', 'private'],
    ['no-store', 'no-store'],
    ['private, max-age=10', 'private, max-age=10'],
    ['public, max-age=60', 'private, max-age=60'],
    ['max-age=60, must-revalidate', 'private, max-age=60, must-revalidate'],
  ])('turns %o into %o', (existing, expected) => {
    expect(privateCacheControl(existing)).toBe(expected);
  });
});
