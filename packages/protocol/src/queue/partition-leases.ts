/**
 * `PartitionLeases`: which persister owns which queue partition (docs/protocol.md, Persistence).
 * Persisters announce themselves with a heartbeat (membership), and each takes a time-limited lease on
 * the partitions it works on, renews it while it works and releases it when it stops or hands the
 * partition to another member. A lease is exclusive: while one member holds it nobody else can take it,
 * and the queue refuses reads and acknowledgements of a leased partition from anyone but its holder
 * (`read(…, { leased: true })`, `ack(…, { owner })`). Leases expire on the store's clock, so a frozen
 * or dead holder loses them after the lease time. Checked by `test/partition-leases.contract.ts` on every
 * backend.
 */

/** A live member (a persister) and what it last published about itself. */
export interface LeaseMember {
  /** The member's name: its consumer name in the queue's group. */
  member: string;
  /** What the member published with its last heartbeat (opaque to the store; JSON for the persister). */
  info: string;
}

/** The lease side of a store, taken by the persister. */
export interface PartitionLeases {
  /** Number of partitions, as the queue's. */
  readonly partitions: number;
  /**
   * Records `member` as alive for `ttlMs` with `info`, forgets members whose heartbeat expired, and
   * resolves with every live member, sorted by name.
   */
  heartbeat(member: string, ttlMs: number, info: string): Promise<LeaseMember[]>;
  /** The live members, sorted by name (expired ones are not listed). */
  members(): Promise<LeaseMember[]>;
  /** Forgets `member` at once (a clean stop), so the others rebalance without waiting for expiry. */
  leave(member: string): Promise<void>;
  /**
   * Takes the partition's lease for `ttlMs` if it is free (or already `member`'s, which renews it);
   * resolves with whether `member` holds it now.
   */
  acquireLease(partition: number, member: string, ttlMs: number): Promise<boolean>;
  /** Extends `member`'s lease by `ttlMs`; false when `member` no longer holds it (expired or taken). */
  renewLease(partition: number, member: string, ttlMs: number): Promise<boolean>;
  /** Frees `member`'s lease at once; false when `member` did not hold it. */
  releaseLease(partition: number, member: string): Promise<boolean>;
  /** The holder of every partition's lease (index = partition), null where none is held. */
  leaseOwners(): Promise<(string | null)[]>;
}
