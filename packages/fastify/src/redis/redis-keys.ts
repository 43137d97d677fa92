/**
 * The Redis key layout (docs/protocol.md, Names). Every key of a device carries its partition tag `{pN}`, so
 * the device's keys and its queue partition's stream share one Cluster slot and one script can
 * update them together.
 *
 * | key | type | lifetime |
 * | --- | --- | --- |
 * | `<prefix>{pN}:s:<deviceId>` | hash: session (`i` id, `o` source, `v` visitorHash, `f` firstSeen, `l` lastSeen, `n` pages) and the device's own page-view rate counter (`c` count, `w` window end ms) | sliding idle, at least the counter's window |
 * | `<prefix>{pN}:e:<deviceId>` | zset: event ids seen (score = server ms) | 10 minutes |
 * | `<prefix>{pN}:l:<deviceId>` | string: last linked user | `CONVERSION_LOOKBACK_DAYS` |
 * | `<prefix>{pN}:a:<deviceId>` | hash: edges already queued (`<kind>:<other id>`), and the replacement it made (`replace:<old id>`) | 1 day |
 * | `<prefix>{pN}:i:<deviceId>` | hash: identity record (`b` minted at, `l` last seen, `x` lifetime ms, `e` its index entry, `c` the device it is joined to, `j`/`ja` the device joined to it and when, `d` day of the last entry refresh) | join window, then `RECOVERY_DAYS` after last seen |
 * | `<prefix>fp:{<entry hash>}` | hash: index entry of a fingerprint (`o` owner, `s` shared, `a`/`at` standing claimant and join time); its own slot | `RECOVERY_DAYS` after its devices were last seen |
 * | `<prefix>fpcap:{<network hash>}:<day>`, `<prefix>fpcap:all:<day>` | string: new entries of a network, of the store, on a UTC day | 2 days |
 * | `<prefix>{pN}:t:<deviceId>` | string: tombstone | 30 days |
 * | `<prefix>{pN}:u:<userId>` | string: user tombstone (N from the user id) | 30 days |
 * | `<prefix>{pN}:q` | stream: the partition's queue, group `persist` | entries deleted at ack |
 * | `<prefix>{pN}:r:<counter>` | string: a rate-limit counter (`store/rate-limits.ts`; N from its anchor), but the touched device's own in its session hash | one window |
 * | `<prefix>{pN}:lease` | string: the persister holding the partition's lease | the lease time |
 * | `<prefix>{persisters}:m` | zset: live persisters (score = heartbeat expiry, Redis ms) | 3 lease times |
 * | `<prefix>{persisters}:i` | hash: what each live persister published (JSON) | 3 lease times |
 * | `<prefix>salt:<YYYY-MM-DD>` | string: daily salt (base64), without a `saltKey` | to the end of the next UTC day |
 * | `<prefix>salt:<YYYY-MM-DD>:<key id>` | string: daily salt sealed under the `saltKey` (AES-256-GCM) | to the end of the next UTC day |
 * | `<prefix>config:partitions` | string: the `partitions` option | none |
 */
import { partitionOf } from '@devicelink/protocol';

/** Default prefix of every key. */
export const DEFAULT_KEY_PREFIX = 'dl:';

/** The Redis hash tag of a partition, `{pN}`: a device's keys and its partition's stream share it. */
export function partitionTag(partition: number): string {
  return `{p${partition}}`;
}

/** The keys of one device. */
export interface DeviceKeys {
  partition: number;
  session: string;
  seen: string;
  lastLinked: string;
  edges: string;
  identity: string;
  tombstone: string;
  stream: string;
}

/** Builds key names for one prefix and partition count. */
export class RedisKeys {
  readonly prefix: string;
  readonly partitions: number;

  constructor(prefix: string, partitions: number) {
    this.prefix = prefix;
    this.partitions = partitions;
  }

  /** The stream of a partition. */
  stream(partition: number): string {
    return `${this.prefix}${partitionTag(partition)}:q`;
  }

  /** The lease of a partition: in its stream's slot, so the queue scripts check it atomically. */
  lease(partition: number): string {
    return `${this.prefix}${partitionTag(partition)}:lease`;
  }

  /** The persisters' membership: the zset of live members and the hash of what they published (one slot). */
  members(): { members: string; info: string } {
    return { members: `${this.prefix}{persisters}:m`, info: `${this.prefix}{persisters}:i` };
  }

  /** Every key of a device. */
  device(deviceId: string): DeviceKeys {
    const partition = partitionOf(deviceId, this.partitions);
    const base = `${this.prefix}${partitionTag(partition)}:`;
    return {
      partition,
      session: `${base}s:${deviceId}`,
      seen: `${base}e:${deviceId}`,
      lastLinked: `${base}l:${deviceId}`,
      edges: `${base}a:${deviceId}`,
      identity: `${base}i:${deviceId}`,
      tombstone: `${base}t:${deviceId}`,
      stream: `${base}q`,
    };
  }

  /** The keys of an authenticated user: tombstone and the user id's partition stream (one slot). */
  user(userId: string): { tombstone: string; stream: string } {
    const base = `${this.prefix}${partitionTag(partitionOf(userId, this.partitions))}:`;
    return { tombstone: `${base}u:${userId}`, stream: `${base}q` };
  }

  /** A rate-limit counter in `partition`: its anchor's (the device id's, or the address hash's). */
  counter(name: string, partition: number): string {
    return `${this.prefix}${partitionTag(partition)}:r:${name}`;
  }

  /** The index entry of a fingerprint key: its own hash tag, so entries spread over the slots. */
  entry(entryHash: string): string {
    return `${this.prefix}fp:{${entryHash}}`;
  }

  /** The daily counter of new entries of a network (`network` given) or of the whole store. */
  cap(day: number, network?: string): string {
    return network === undefined
      ? `${this.prefix}fpcap:all:${day}`
      : `${this.prefix}fpcap:{${network}}:${day}`;
  }

  /** The daily salt of `day`; with `keyId`, the one sealed under that key. */
  salt(day: string, keyId?: string): string {
    return keyId === undefined ? `${this.prefix}salt:${day}` : `${this.prefix}salt:${day}:${keyId}`;
  }

  config(): string {
    return `${this.prefix}config:partitions`;
  }
}
