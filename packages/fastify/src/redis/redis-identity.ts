/**
 * Fingerprint joins on Redis or Redis Cluster (docs/protocol.md, Fingerprint joins). A decision
 * touches the minted id's record, the fingerprint's index entry, the candidate's record and cap
 * counters, which live in different slots. So:
 * - the index entry, keyed by the keyed hash of fingerprint, network prefix and browser family (so a
 *   popular phone model is many keys, not one hot key), decides joins and revocations atomically in its
 *   own slot (`fp-decide.lua`, `fp-revoke.lua`);
 * - the decision is then copied onto the devices' records, idempotently (`fp-claim.lua`,
 *   `fp-mark.lua`, `fp-release.lua`): a copy lost to a crash is made again when the SDK resends its
 *   evidence, and the entry answers the same decision;
 * - each device's record points to its entry, so erasure and withdrawn consent find it;
 * - the join edge goes into the claimant's partition and its revocation into the joined-to device's,
 *   so Postgres may receive a revocation before its join (it compares times, see the persister).
 * A request of the joined-to id, or of a claimant that gave way, is seen by the touch script, which
 * flags the record; the revocation follows here. Erasure and withdrawal leave the entry a tombstone.
 */

import { encodeRecord } from '../records/record-encoding.js';
import type { FingerprintInput, FingerprintResult } from '../store/device-store.js';
import { CAP_SECONDS, type ResolvedStoreOptions } from '../store/store-options.js';
import type { CommandClient } from './redis-commands.js';
import type { RedisKeys } from './redis-keys.js';

const DAY_MS = 86_400_000;

/** The fingerprint side of the Redis store. */
export class RedisIdentity {
  readonly #redis: CommandClient;
  readonly #keys: RedisKeys;
  readonly #o: ResolvedStoreOptions;

  constructor(redis: CommandClient, keys: RedisKeys, options: ResolvedStoreOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#o = options;
  }

  async noteMinted(deviceId: string, place: string): Promise<void> {
    const k = this.#keys.device(deviceId);
    await this.#redis.dlMint(k.identity, k.tombstone, this.#o.joinWindowMs, place);
  }

  /**
   * What the touch script flagged for a device that has an identity record: `j`, a join to it stands
   * (revoke it: the device was seen on a request of its own); `g`, the device gave way as a claimant
   * and is live after all (mark the entry shared); else the key of its index entry, whose lifetime is
   * extended (once a day).
   */
  async afterTouch(deviceId: string, flag: string): Promise<void> {
    if (flag === '') return;
    if (flag === 'j') return this.#revokeSeen(deviceId);
    if (flag === 'g') return this.#revokeGivenWay(deviceId);
    await this.#redis.dlFpRefresh(flag, deviceId, this.#o.recoveryMs);
  }

  async recordFingerprint({
    deviceId,
    entry: entryHash,
    place,
    network,
    block,
  }: FingerprintInput): Promise<FingerprintResult> {
    const k = this.#keys.device(deviceId);
    const begin = await this.#redis.dlFpBegin(k.identity, k.tombstone);
    if (begin[0] === 'erased') return { status: 'erased' };
    if (begin[1]) return { status: 'already' };
    const born = begin[2] ?? '';
    // Never seen fresh on this network: an old or made-up id changes nothing (no squat, no block).
    if (born === '' || begin[3] !== place) return { status: 'stale' };
    return this.#decide(deviceId, born, this.#keys.entry(entryHash), network, block);
  }

  /**
   * Decides the join in the index entry's slot (`fp-decide.lua`), deciding again with each fact it
   * needs from another slot (a cap taken, the standing claimant's last sighting), then copies the
   * decision onto the devices' records.
   */
  async #decide(
    deviceId: string,
    born: string,
    entry: string,
    network: string,
    block: string,
  ): Promise<FingerprintResult> {
    const { joinWindowMs, recoveryMs } = this.#o;
    let create = '0';
    let claimantSeen = '';
    for (;;) {
      const d = await this.#redis.dlFpDecide(
        entry,
        deviceId,
        born,
        joinWindowMs,
        recoveryMs,
        create,
        claimantSeen,
      );
      switch (d[0]) {
        case 'closed':
          return { status: 'closed' };
        case 'vacant':
          if (!(await this.#takeCap(network, block))) return { status: 'capped' };
          create = '1';
          continue;
        case 'contested': {
          // The standing claimant's last sighting lives in its own slot: read, then decided again.
          const seen = await this.#redis.hget(this.#keys.device(d[1]!).identity, 'l');
          claimantSeen = seen ?? '0';
          continue;
        }
        case 'registered':
          await this.#claim(deviceId, entry, '', 0);
          return { status: 'registered' };
        case 'joined':
          await this.#joined(deviceId, entry, d as [string, string, string, string, string]);
          return { status: 'joined' };
        default: {
          const [, owner, claimant, at] = d as [string, string, string, string];
          if (claimant) await this.#revoked(owner, claimant, entry, Number(at));
          return { status: 'shared' };
        }
      }
    }
  }

  /**
   * Copies a join onto the records: the claim that gave way (if any) is released, the device claims
   * the entry with its join edge, and the owner is marked joined (an `unjoin` of the given-way claim's
   * join going into its partition).
   */
  async #joined(
    deviceId: string,
    entry: string,
    [, owner, at, gaveWay, gaveWayAt]: [string, string, string, string, string],
  ): Promise<void> {
    // The claim that gave way keeps its pointer to the entry: its own request marks it shared.
    if (gaveWay) await this.#release(gaveWay, owner, '', null, owner);
    await this.#claim(deviceId, entry, owner, Number(at));
    const ok = this.#keys.device(owner);
    // The given-way claim's join ends now: revoked at its own time (this later join stands).
    const unjoin = gaveWay ? encodeRecord({ kind: 'unjoin', deviceId: owner, ts: Number(gaveWayAt) }) : '';
    const seenSince = await this.#redis.dlFpMark(
      ok.identity,
      ok.stream,
      deviceId,
      at,
      this.#o.recoveryMs,
      unjoin,
    );
    // The owner was seen between the decision and the copy: that request revokes it now.
    if (Number(seenSince) === 1) await this.#revokeSeen(owner);
  }

  /**
   * Erasure or withdrawn consent: turns the index entry the device owns or is joined through (one
   * entry is both ends of a join) into a tombstone, runs `own` (the script that deletes the device's own record; it
   * answers the record to queue behind the other device's entries, or null) and clears the other
   * device's part.
   */
  async forget(deviceId: string, own: () => Promise<string | null>): Promise<void> {
    const pointer = await this.#redis.hget(this.#keys.device(deviceId).identity, 'e');
    const others = pointer ? await this.#redis.dlFpDrop(pointer, deviceId, this.#o.recoveryMs) : [];
    const record = await own();
    for (const other of others) {
      if (other && other !== deviceId) await this.#release(other, deviceId, pointer ?? '', record);
    }
  }

  /** The joined-to device was seen on a request of its own: the entry is marked shared, the join revoked. */
  async #revokeSeen(owner: string): Promise<void> {
    const [pointer, marked] = await this.#redis.hmget(this.#keys.device(owner).identity, 'e', 'j');
    let at = Date.now();
    let claimant = marked ?? '';
    if (pointer) {
      const [revoked, time] = await this.#redis.dlFpRevoke(pointer, owner);
      at = Number(time);
      claimant = revoked || claimant;
    }
    await this.#revoked(owner, claimant, pointer ?? '', at);
  }

  /**
   * A claimant that gave way was seen on a request of its own: a live browser shares the fingerprint,
   * so the entry (when its owner is still the one it gave way to) is marked shared and its standing
   * join revoked; then the pointer goes.
   */
  async #revokeGivenWay(deviceId: string): Promise<void> {
    const [pointer, owner] = await this.#redis.hmget(this.#keys.device(deviceId).identity, 'e', 'g');
    if (pointer && owner) {
      const [revoked, time] = await this.#redis.dlFpRevoke(pointer, owner);
      if (revoked) await this.#revoked(owner, revoked, pointer, Number(time));
    }
    await this.#release(deviceId, '', '', null, '-');
  }

  /**
   * Copies a revocation: the claimant's claim goes, the owner's mark goes, and an `unjoin` record at
   * the entry's time goes into the owner's partition.
   */
  async #revoked(owner: string, claimant: string, entry: string, at: number): Promise<void> {
    if (claimant) await this.#release(claimant, owner, entry, null);
    await this.#release(owner, '*', '', encodeRecord({ kind: 'unjoin', deviceId: owner, ts: at }));
  }

  async #claim(deviceId: string, entry: string, owner: string, at: number): Promise<void> {
    const k = this.#keys.device(deviceId);
    const join = owner ? encodeRecord({ kind: 'edge', edge: 'join', deviceId, otherId: owner, ts: at }) : '';
    await this.#redis.dlFpClaim(k.identity, k.tombstone, k.stream, entry, this.#o.recoveryMs, owner, join);
  }

  /** `gaveWay`: the owner whose claim the device gave way ('-' clears it, '' keeps it). */
  async #release(
    deviceId: string,
    other: string,
    entry: string,
    record: string | null,
    gaveWay = '',
  ): Promise<void> {
    const k = this.#keys.device(deviceId);
    await this.#redis.dlFpRelease(k.identity, k.stream, other, entry, record ?? '', gaveWay);
  }

  /**
   * Counts a new entry against the network's, the block's and the store's caps of the UTC day, in
   * that order; false when over one. An attempt counts up to the cap that refused it, so a flooding
   * network never reaches the wider counters beyond its own cap.
   */
  async #takeCap(network: string, block: string): Promise<boolean> {
    const day = Math.floor(Date.now() / DAY_MS);
    const caps: Array<[string, number]> = [
      [this.#keys.cap(day, network), this.#o.networkDailyCap],
      [this.#keys.cap(day, `b.${block}`), this.#o.blockDailyCap],
      [this.#keys.cap(day), this.#o.dailyCap],
    ];
    for (const [key, cap] of caps) {
      if (Number(await this.#redis.dlFpCap(key, cap, CAP_SECONDS)) !== 1) return false;
    }
    return true;
  }
}
