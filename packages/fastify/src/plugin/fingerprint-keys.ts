/**
 * The keys of fingerprint joins (docs/protocol.md, Fingerprint joins): keyed hashes (HMAC-SHA-256
 * under the recovery secret) of the FingerprintJS visitorId, the client's network prefix and its
 * browser family. The raw visitorId and address only pass through: without the secret, which is
 * never stored beside the hashes, a dump cannot be reversed by trying the 2^24 IPv4 prefixes.
 */
import { createHmac } from 'node:crypto';
import { type NetworkPrefixes, networkPrefixes } from '../store/network-prefixes.js';

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

/** The store keys of one piece of evidence (`FingerprintInput` without the device id). */
export interface FingerprintKeys {
  /** The index entry: visitorId, join prefix and browser family. */
  entry: string;
  /** The join prefix alone: where a minted id was seen fresh ({@link placeKey}). */
  place: string;
  /** The per-network cap's prefix (/24, /48). */
  network: string;
  /** The per-block cap's prefix (/16, /32). */
  block: string;
}

const keyed = (secret: string | Buffer, text: string) =>
  createHmac('sha256', secret).update(text).digest().subarray(0, 16).toString('base64url');

/**
 * The keyed hash of the prefix joins compare: the store keeps it beside a minted id, so evidence
 * counts only on the network where that id was seen fresh.
 */
function placeKey(secret: string | Buffer, network: NetworkPrefixes): string {
  return keyed(secret, `place\0${network.join}`);
}

/** The place key of a client address (null: not an IP address), for `noteMinted`. */
export function mintPlace(secret: string | Buffer, address: string): string | null {
  const network = networkPrefixes(address);
  return network === null ? null : placeKey(secret, network);
}

/**
 * The index entry key (visitorId, join prefix, browser family), the place key and the cap keys (cap
 * and block prefixes) of a piece of evidence. NUL separators: none of the fields can contain one.
 */
export function fingerprintKeys(
  secret: string | Buffer,
  visitorId: string,
  network: NetworkPrefixes,
  family: string,
): FingerprintKeys {
  return {
    entry: keyed(secret, `fp\0${visitorId}\0${network.join}\0${family}`),
    place: placeKey(secret, network),
    network: keyed(secret, `net\0${network.cap}`),
    block: keyed(secret, `block\0${network.block}`),
  };
}
