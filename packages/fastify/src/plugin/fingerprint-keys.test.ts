import { describe, expect, it } from 'vitest';
import { browserFamily, fingerprintKeys, networkPrefixes } from './fingerprint-keys.js';

describe('networkPrefixes', () => {
  it('keeps the /24 of an IPv4 address for both joins and caps', () => {
    expect(networkPrefixes('192.0.2.77')).toEqual({ join: '192.0.2.0/24', cap: '192.0.2.0/24' });
  });

  it('treats an IPv4-mapped IPv6 address as IPv4', () => {
    expect(networkPrefixes('::ffff:192.0.2.77')).toEqual({ join: '192.0.2.0/24', cap: '192.0.2.0/24' });
  });

  it('keeps the /64 of an IPv6 address for joins and its /48 for caps, however it is written', () => {
    const expected = { join: '2001:db8:1:2::/64', cap: '2001:db8:1::/48' };
    expect(networkPrefixes('2001:db8:1:2::99')).toEqual(expected);
    expect(networkPrefixes('2001:0db8:0001:0002:0000:0000:0000:0099')).toEqual(expected);
    expect(networkPrefixes('2001:db8:1:2:aa:bb:cc:dd%eth0')).toEqual(expected);
    expect(networkPrefixes('::1')).toEqual({ join: '0:0:0:0::/64', cap: '0:0:0::/48' });
  });

  it('answers null for anything that is not an address', () => {
    for (const junk of ['', 'localhost', '300.1.1.1', '1:2:3', 'unknown']) {
      expect(networkPrefixes(junk)).toBeNull();
    }
  });
});

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
  const net = { join: '192.0.2.0/24', cap: '192.0.2.0/24' };
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
    // The cap counts the network alone.
    expect(fingerprintKeys(secret, 'visitor-2', net, 'firefox').network).toBe(base.network);
  });
});
