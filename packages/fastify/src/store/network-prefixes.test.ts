import { describe, expect, it } from 'vitest';
import { networkPrefixes } from './network-prefixes.js';

describe('networkPrefixes', () => {
  it('keeps the address, its /24 (joins and caps) and its /16 (block) for IPv4', () => {
    expect(networkPrefixes('192.0.2.77')).toEqual({
      family: 4,
      host: '192.0.2.77/32',
      join: '192.0.2.0/24',
      cap: '192.0.2.0/24',
      block: '192.0.0.0/16',
    });
  });

  it('treats an IPv4-mapped IPv6 address as IPv4, in either spelling', () => {
    const v4 = networkPrefixes('192.0.2.77');
    expect(networkPrefixes('::ffff:192.0.2.77')).toEqual(v4);
    expect(networkPrefixes('::ffff:c000:24d')).toEqual(v4);
  });

  it('keeps the /64 of IPv6 for the host and joins, its /48 for caps and its /32 for the block, however it is written', () => {
    const expected = {
      family: 6,
      host: '2001:db8:1:2::/64',
      join: '2001:db8:1:2::/64',
      cap: '2001:db8:1::/48',
      block: '2001:db8::/32',
    };
    expect(networkPrefixes('2001:db8:1:2::99')).toEqual(expected);
    expect(networkPrefixes('2001:0db8:0001:0002:0000:0000:0000:0099')).toEqual(expected);
    expect(networkPrefixes('2001:DB8:1:2:aa:bb:cc:dd%eth0')).toEqual(expected);
    expect(networkPrefixes('::1')).toMatchObject({
      join: '0:0:0:0::/64',
      cap: '0:0:0::/48',
      block: '0:0::/32',
    });
  });

  it('answers null for anything that is not an address, including the short forms ipaddr.js alone takes', () => {
    for (const junk of ['', 'localhost', '300.1.1.1', '1:2:3', 'unknown', '127.1', '0x7f.0.0.1', '1::2::3']) {
      expect(networkPrefixes(junk)).toBeNull();
    }
  });
});
