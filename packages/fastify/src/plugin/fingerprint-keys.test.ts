import { describe, expect, it } from 'vitest';
import { networkPrefixes } from '../store/network-prefixes.js';
import { browserFamily, fingerprintKeys, mintPlace } from './fingerprint-keys.js';

describe('browserFamily', () => {
  it('names the browser brand of common User-Agents', () => {
    const chrome =
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
    expect(browserFamily(chrome)).toBe('chrome');
    expect(browserFamily(`${chrome} Edg/126.0.0.0`)).toBe('edge');
    expect(browserFamily('Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0')).toBe(
      'firefox',
    );
    expect(
      browserFamily(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('safari');
    expect(browserFamily(undefined)).toBe('other');
  });
});

describe('fingerprintKeys', () => {
  const net = networkPrefixes('192.0.2.77')!;
  const secret = 'a-recovery-secret-of-at-least-32-chars';

  it('depends on the secret, the visitorId, the network and the family, and holds none of them', () => {
    const base = fingerprintKeys(secret, 'visitor-1', net, 'chrome');
    expect(base.entry).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(base)).not.toMatch(/visitor|192|chrome/);
    expect(fingerprintKeys(secret, 'visitor-1', net, 'chrome')).toEqual(base);
    expect(fingerprintKeys(`${secret}x`, 'visitor-1', net, 'chrome').entry).not.toBe(base.entry);
    expect(fingerprintKeys(secret, 'visitor-2', net, 'chrome').entry).not.toBe(base.entry);
    expect(fingerprintKeys(secret, 'visitor-1', { ...net, join: '192.0.3.0/24' }, 'chrome').entry).not.toBe(
      base.entry,
    );
    expect(fingerprintKeys(secret, 'visitor-1', net, 'firefox').entry).not.toBe(base.entry);
    // The caps and the place count the network alone.
    const other = fingerprintKeys(secret, 'visitor-2', net, 'firefox');
    expect([other.network, other.block, other.place]).toEqual([base.network, base.block, base.place]);
    expect(new Set([base.entry, base.place, base.network, base.block]).size).toBe(4);
  });

  it('keys the place of a minted id as the evidence from its network will be keyed', () => {
    const base = fingerprintKeys(secret, 'visitor-1', net, 'chrome');
    expect(mintPlace(secret, '192.0.2.1')).toBe(base.place);
    expect(mintPlace(secret, '192.0.3.1')).not.toBe(base.place);
    expect(mintPlace(secret, 'not an address')).toBeNull();
  });
});
