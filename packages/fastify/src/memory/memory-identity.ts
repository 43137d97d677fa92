/**
 * Fingerprint joins of the memory store (docs/protocol.md, Fingerprint joins), with the Redis
 * store's rules. Every method runs synchronously to completion, so each step is atomic. The index
 * entry of a fingerprint (its keyed hash with the network and browser family) decides joins; each
 * device's identity record keeps when and where it was minted, when it was last seen, the entry it
 * points to (for erasure) and the standing join it takes part in, or the owner of the entry whose
 * claim it gave way (its own request then marks that entry shared).
 */
import type { QueueRecord } from '@devicelink/protocol';
import type { FingerprintInput, FingerprintResult } from '../store/device-store.js';
import { CAP_SECONDS, type ResolvedStoreOptions } from '../store/store-options.js';
import { ExpiringMap } from './expiring-map.js';

/** A device's identity record (the Redis `i:` hash). */
interface IdentityRecord {
  /** When the id answered its first fresh request (null: never seen fresh, so never joined). */
  born: number | null;
  /** The keyed join prefix of that request: evidence from elsewhere changes nothing. */
  place: string | null;
  lastSeen: number;
  lifetimeMs: number;
  /** The index entry this device registered, or joined through. */
  entry: string | null;
  /** The device this one is joined to (a standing join). */
  claims: string | null;
  /** The device joined to this one, and when. */
  claimedBy: string | null;
  joinedAt: number;
  /** The owner of `entry`, whose claim this device gave way to a later claimant. */
  gaveWay: string | null;
}

/** An index entry (the Redis `fp:` hash). */
interface IndexEntry {
  owner: string;
  /** Twins seen: never used for a join while the entry lives. */
  shared: boolean;
  /** A tombstone: a device of the entry was erased or withdrew; no registration or join on it. */
  closed: boolean;
  claimant: string | null;
  joinedAt: number;
}

const DAY_MS = 86_400_000;

/** A record with nothing in it yet, living `lifetimeMs`. */
const blankRecord = (now: number, lifetimeMs: number): IdentityRecord => ({
  born: null,
  place: null,
  lastSeen: now,
  lifetimeMs,
  entry: null,
  claims: null,
  claimedBy: null,
  joinedAt: 0,
  gaveWay: null,
});

/** What the identity side needs from the memory store. */
export interface IdentityHost {
  now: () => number;
  /** Appends a record to the partition of `key`. */
  append: (key: string, record: QueueRecord) => void;
  erased: (deviceId: string) => boolean;
}

/** The fingerprint side of the memory store. */
export class MemoryIdentity {
  readonly #o: ResolvedStoreOptions;
  readonly #host: IdentityHost;
  readonly #records: ExpiringMap<string, IdentityRecord>;
  readonly #entries: ExpiringMap<string, IndexEntry>;
  readonly #caps: ExpiringMap<string, number>;

  constructor(o: ResolvedStoreOptions, host: IdentityHost, maxEntries: number) {
    this.#o = o;
    this.#host = host;
    this.#records = new ExpiringMap(maxEntries, host.now);
    this.#entries = new ExpiringMap(maxEntries, host.now);
    this.#caps = new ExpiringMap(maxEntries, host.now);
  }

  /** The first fresh request of a minted id: starts its join window (the first call wins). */
  noteMinted(deviceId: string, place: string): void {
    if (this.#records.get(deviceId)) return;
    const now = this.#host.now();
    const record: IdentityRecord = {
      ...blankRecord(now, this.#o.joinWindowMs),
      born: now,
      place,
    };
    this.#records.set(deviceId, record, record.lifetimeMs);
  }

  /** The device has an identity record (a replacement must not take a known id). */
  has(deviceId: string): boolean {
    return this.#records.get(deviceId) !== undefined;
  }

  /**
   * The device was seen on a request of its own (a touch): its record and entry live on, and a join
   * made to it is revoked (the other browser still exists: twins).
   */
  seen(deviceId: string): void {
    const record = this.#records.get(deviceId);
    if (!record) return;
    const now = this.#host.now();
    record.lastSeen = now;
    this.#records.set(deviceId, record, record.lifetimeMs);
    const entry = record.entry ? this.#entries.get(record.entry) : undefined;
    if (record.entry && entry && (entry.owner === deviceId || entry.claimant === deviceId)) {
      this.#entries.set(record.entry, entry, this.#o.recoveryMs);
    }
    if (record.claimedBy !== null && now >= record.joinedAt) {
      if (record.entry && entry?.owner === deviceId) this.#share(record.entry, entry, now);
      else this.#unjoin(deviceId, record, now);
    }
    // A claimant that gave way is a live browser after all: two browsers share this fingerprint.
    if (record.gaveWay !== null) {
      if (record.entry && entry && !entry.closed && entry.owner === record.gaveWay) {
        this.#share(record.entry, entry, now);
      }
      record.gaveWay = null;
    }
  }

  recordFingerprint({ deviceId, entry: key, place, network, block }: FingerprintInput): FingerprintResult {
    if (this.#host.erased(deviceId)) return { status: 'erased' };
    const now = this.#host.now();
    const record = this.#records.get(deviceId);
    if (record?.entry) return { status: 'already' };
    // Never seen fresh on this network: an old or made-up id changes nothing (no squat, no block).
    const born = record?.born ?? null;
    if (born === null || record?.place !== place) return { status: 'stale' };
    const young = now - born <= this.#o.joinWindowMs;
    const entry = this.#entries.get(key);
    if (entry?.closed) return { status: 'closed' };
    if (!entry) {
      if (!this.#takeCap(network, block, now)) return { status: 'capped' };
      this.#entries.set(
        key,
        { owner: deviceId, shared: false, closed: false, claimant: null, joinedAt: 0 },
        this.#o.recoveryMs,
      );
      this.#pin(deviceId, now).entry = key;
      return { status: 'registered' };
    }
    if (entry.owner === deviceId) {
      this.#pin(deviceId, now).entry = key;
      return { status: 'registered' };
    }
    if (entry.claimant === deviceId) {
      this.#copyJoin(deviceId, entry.owner, key, entry.joinedAt);
      return { status: 'joined' };
    }
    if (entry.shared) return { status: 'shared' };
    // A second device with this fingerprint on this network that was not just minted: twins.
    if (!young) {
      this.#share(key, entry, now);
      return { status: 'shared' };
    }
    let at = now;
    if (entry.claimant !== null) {
      const first = this.#records.get(entry.claimant);
      // Both claimants live after the second's first request: one is a twin, nothing tells which.
      if (first && first.lastSeen > born) {
        this.#share(key, entry, now);
        return { status: 'shared' };
      }
      // Not seen since: the same browser cleared its storage again; the first gives way at once.
      this.#giveWay(entry.claimant, entry.owner, entry.joinedAt);
      // Strictly after the revoked join, so the revocation never covers this one.
      at = Math.max(now, entry.joinedAt + 1);
    }
    entry.claimant = deviceId;
    entry.joinedAt = at;
    this.#copyJoin(deviceId, entry.owner, key, at);
    return { status: 'joined' };
  }

  /**
   * Erasure or withdrawn consent: deletes the device's record, turns the entry it registered or joined
   * through into a tombstone (so at both ends: no registration or join on it for `recoveryDays`) and
   * clears the other device's part. Returns that other device, if any.
   */
  forget(deviceId: string): string[] {
    const record = this.#records.get(deviceId);
    this.#records.delete(deviceId);
    if (!record?.entry) return [];
    const entry = this.#entries.get(record.entry);
    if (!entry || entry.closed || (entry.owner !== deviceId && entry.claimant !== deviceId)) return [];
    this.#entries.set(
      record.entry,
      { owner: '', shared: false, closed: true, claimant: null, joinedAt: 0 },
      this.#o.recoveryMs,
    );
    const others: string[] = [];
    if (entry.owner !== deviceId) {
      others.push(entry.owner);
      const owner = this.#records.get(entry.owner);
      if (owner?.claimedBy === deviceId) owner.claimedBy = null;
      if (owner?.entry === record.entry) owner.entry = null;
    }
    if (entry.claimant !== null && entry.claimant !== deviceId) {
      others.push(entry.claimant);
      this.#dropClaim(entry.claimant, deviceId);
    }
    return others;
  }

  /** True when the device has an identity record (minted, registered or joined, not expired). */
  knows(deviceId: string): boolean {
    return this.#records.get(deviceId) !== undefined;
  }

  /** Drops expired records, entries and counters. */
  sweep(): void {
    this.#records.sweep();
    this.#entries.sweep();
    this.#caps.sweep();
  }

  /** The device's record, created when missing, living `recoveryMs` from its last sighting. */
  #pin(deviceId: string, now: number): IdentityRecord {
    const record = this.#records.get(deviceId) ?? blankRecord(now, this.#o.recoveryMs);
    record.lifetimeMs = this.#o.recoveryMs;
    this.#records.set(deviceId, record, record.lifetimeMs);
    return record;
  }

  /** Copies a join decided by the entry onto both devices and queues the join edge (once). */
  #copyJoin(deviceId: string, owner: string, key: string, at: number): void {
    const now = this.#host.now();
    const record = this.#pin(deviceId, now);
    record.entry = key;
    if (record.claims !== owner) {
      record.claims = owner;
      this.#host.append(deviceId, { kind: 'edge', edge: 'join', deviceId, otherId: owner, ts: at });
    }
    const target = this.#pin(owner, now);
    target.claimedBy = deviceId;
    target.joinedAt = at;
  }

  /** Marks the entry shared and revokes its standing join. */
  #share(key: string, entry: IndexEntry, now: number): void {
    entry.shared = true;
    if (entry.claimant !== null) {
      this.#dropClaim(entry.claimant, entry.owner);
      entry.claimant = null;
      const owner = this.#records.get(entry.owner);
      if (owner) this.#unjoin(entry.owner, owner, now);
      else this.#host.append(entry.owner, { kind: 'unjoin', deviceId: entry.owner, ts: now });
    }
    this.#entries.set(key, entry, this.#o.recoveryMs);
  }

  /** Clears a revoked join on the joined-to device and queues the revocation. */
  #unjoin(deviceId: string, record: IdentityRecord, now: number): void {
    record.claimedBy = null;
    this.#host.append(deviceId, { kind: 'unjoin', deviceId, ts: now });
  }

  /**
   * A claimant not seen since a later claimant's first request gives way: its join ends now with an
   * `unjoin` record at its own join time (later joins stand), and it keeps a pointer to the entry, so
   * its own request later (a live browser after all) marks the entry shared.
   */
  #giveWay(claimant: string, owner: string, joinedAt: number): void {
    this.#host.append(owner, { kind: 'unjoin', deviceId: owner, ts: joinedAt });
    const record = this.#records.get(claimant);
    if (record?.claims !== owner) return;
    record.claims = null;
    record.gaveWay = owner;
  }

  /** The claimant no longer claims `owner` (revoked, given way, or the owner is gone). */
  #dropClaim(claimant: string, owner: string): void {
    const record = this.#records.get(claimant);
    if (record?.claims !== owner) return;
    record.claims = null;
    record.entry = null;
  }

  /**
   * Counts a new entry against the network's, the block's and the store's caps of the UTC day, in
   * that order (as Redis does); false when over one. An attempt counts up to the cap that refused it,
   * so a flooding network never reaches the wider counters beyond its own cap.
   */
  #takeCap(network: string, block: string, now: number): boolean {
    const day = Math.floor(now / DAY_MS);
    const counters: Array<[string, number]> = [
      [`n:${network}:${day}`, this.#o.networkDailyCap],
      [`b:${block}:${day}`, this.#o.blockDailyCap],
      [`*:${day}`, this.#o.dailyCap],
    ];
    for (const [name, cap] of counters) {
      const count = (this.#caps.get(name) ?? 0) + 1;
      this.#caps.set(name, count, CAP_SECONDS * 1000);
      if (count > cap) return false;
    }
    return true;
  }
}
