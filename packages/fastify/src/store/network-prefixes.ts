/**
 * The network prefixes of a client address (docs/protocol.md, Fingerprint joins and Rate limits):
 * what joins compare, what the daily caps of new fingerprint entries count and what the limits on new
 * ids count. Parsing is ipaddr.js's (every IPv6 spelling, zone ids, IPv4-mapped addresses); the prefix
 * texts below are fixed, since keyed hashes of them are store keys.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** The prefixes of one client address, each a text such as `192.0.2.0/24`. */
export interface NetworkPrefixes {
  /** 4 or 6 (an IPv4-mapped IPv6 address counts as IPv4). */
  readonly family: 4 | 6;
  /** One subscriber: the IPv4 address itself, the /64 of IPv6 (one LAN's prefix). */
  readonly host: string;
  /** What fingerprint joins compare: `/24` of IPv4, `/64` of IPv6. */
  readonly join: string;
  /** What the per-network caps count: `/24` of IPv4, `/48` of IPv6 (one site often holds many /64s). */
  readonly cap: string;
  /** What the per-block caps count: `/16` of IPv4, `/32` of IPv6 (one provider's allocation). */
  readonly block: string;
}

function ipv4Prefixes(octets: number[]): NetworkPrefixes {
  const [a, b, c, d] = octets;
  const site = `${a}.${b}.${c}.0/24`;
  return { family: 4, host: `${a}.${b}.${c}.${d}/32`, join: site, cap: site, block: `${a}.${b}.0.0/16` };
}

/**
 * The network prefixes of a client address, or null when it is not an IP address (a unix socket, a
 * proxy's junk). An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket reports
 * IPv4 clients) counts as IPv4.
 *
 * @example
 * networkPrefixes('192.0.2.77') // { family: 4, host: '192.0.2.77/32', join: '192.0.2.0/24', cap: '192.0.2.0/24', block: '192.0.0.0/16' }
 */
export function networkPrefixes(address: string): NetworkPrefixes | null {
  if (typeof address !== 'string') return null;
  // Asked two or three times per page view (limits, network hash, joins), and clients repeat: parsed
  // once, kept (bounded; frozen, as callers share the object).
  const known = parsed.get(address);
  if (known !== undefined) return known;
  if (parsed.size >= PARSED_MAX) parsed.clear();
  const prefixes = parse(address);
  parsed.set(address, prefixes === null ? null : Object.freeze(prefixes));
  return prefixes;
}

/** Addresses whose prefixes are kept; past it the memo starts over. */
const PARSED_MAX = 10_000;
const parsed = new Map<string, NetworkPrefixes | null>();

function parse(address: string): NetworkPrefixes | null {
  // node:net decides what is an address (ipaddr.js alone also takes `127.1` or `0x7f.0.0.1`).
  if (isIP(address) === 0) return null;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return null;
  }
  if (parsed.kind() === 'ipv4') return ipv4Prefixes((parsed as ipaddr.IPv4).octets);
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return ipv4Prefixes(v6.toIPv4Address().octets);
  const groups = (n: number) =>
    v6.parts
      .slice(0, n)
      .map((g) => g.toString(16))
      .join(':');
  const join = `${groups(4)}::/64`;
  return { family: 6, host: join, join, cap: `${groups(3)}::/48`, block: `${groups(2)}::/32` };
}
