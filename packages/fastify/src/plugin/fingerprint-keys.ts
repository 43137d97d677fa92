/**
 * The keys of fingerprint joins (docs/protocol.md, Fingerprint joins): keyed hashes (HMAC-SHA-256
 * under the recovery secret) of the FingerprintJS visitorId, the client's network prefix and its
 * browser family. The raw visitorId and address only pass through: without the secret, which is
 * never stored beside the hashes, a dump cannot be reversed by trying the 2^24 IPv4 prefixes.
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';

/** The prefixes of a client address: the one joins compare and the one the daily cap counts. */
export interface NetworkPrefixes {
  /** `/24` of IPv4, `/64` of IPv6. */
  join: string;
  /** `/24` of IPv4, `/48` of IPv6 (one site often holds many /64s). */
  cap: string;
}

/** The eight 16-bit groups of an IPv6 address (with an IPv4 tail turned into two), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.split('%')[0] ?? '';
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const bytes = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, v4.index)}${((bytes[0]! << 8) | bytes[1]!).toString(16)}:${((bytes[2]! << 8) | bytes[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array.from({ length: fill }, () => 0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : null;
}

/**
 * The network prefixes of a client address, or null when it is not an IP address. An IPv4-mapped
 * IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 clients) counts as IPv4.
 *
 * @example
 * networkPrefixes('192.0.2.77') // { join: '192.0.2.0/24', cap: '192.0.2.0/24' }
 */
export function networkPrefixes(address: string): NetworkPrefixes | null {
  const family = isIP(address.split('%')[0] ?? '');
  if (family === 4) {
    const [a, b, c] = address.split('.');
    const v4 = `${a}.${b}.${c}.0/24`;
    return { join: v4, cap: v4 };
  }
  if (family !== 6) return null;
  const groups = ipv6Groups(address);
  if (!groups) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return networkPrefixes(`${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`);
  }
  const hex = (n: number) =>
    groups
      .slice(0, n)
      .map((g) => g.toString(16))
      .join(':');
  return { join: `${hex(4)}::/64`, cap: `${hex(3)}::/48` };
}

/** The browser family of a User-Agent: one of the engines' brands, else `other`. */
export function browserFamily(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  if (/\bEdg(e|A|iOS)?\//.test(ua)) return 'edge';
  if (/\bOPR\/|\bOpera\b/.test(ua)) return 'opera';
  if (/\bSamsungBrowser\//.test(ua)) return 'samsung';
  if (/\bFirefox\/|\bFxiOS\//.test(ua)) return 'firefox';
  if (/\bChrome\/|\bCriOS\/|\bChromium\//.test(ua)) return 'chrome';
  if (/\bSafari\//.test(ua)) return 'safari';
  return 'other';
}

/** The store keys of one piece of evidence. */
export interface FingerprintKeys {
  entry: string;
  network: string;
}

const keyed = (secret: string | Buffer, text: string) =>
  createHmac('sha256', secret).update(text).digest().subarray(0, 16).toString('base64url');

/**
 * The index entry key (visitorId, join prefix, browser family) and the cap key (cap prefix) of a
 * piece of evidence. NUL separators: none of the fields can contain one.
 */
export function fingerprintKeys(
  secret: string | Buffer,
  visitorId: string,
  network: NetworkPrefixes,
  family: string,
): FingerprintKeys {
  return {
    entry: keyed(secret, `fp\0${visitorId}\0${network.join}\0${family}`),
    network: keyed(secret, `net\0${network.cap}`),
  };
}
