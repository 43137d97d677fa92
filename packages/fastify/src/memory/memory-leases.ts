/**
 * {@link PartitionLeases} in process, for the embedded store: one process, so one persister holds
 * everything; the semantics (exclusive, expiring on the store's clock, membership by heartbeat) are
 * the Redis store's, so one persister code path serves both.
 */
import type { LeaseMember, PartitionLeases } from '@devicelink/protocol';

interface Held {
  member: string;
  expiresAt: number;
}

/** In-process {@link PartitionLeases}. Every method completes synchronously, so each is atomic. */
export class MemoryLeases implements PartitionLeases {
  readonly partitions: number;
  readonly #now: () => number;
  readonly #leases = new Map<number, Held>();
  readonly #members = new Map<string, { expiresAt: number; info: string }>();

  constructor(partitions: number, now: () => number) {
    this.partitions = partitions;
    this.#now = now;
  }

  /** The partition's holder now (null when free or expired). */
  holder(partition: number): string | null {
    const held = this.#leases.get(partition);
    if (!held) return null;
    if (held.expiresAt <= this.#now()) {
      this.#leases.delete(partition);
      return null;
    }
    return held.member;
  }

  async heartbeat(member: string, ttlMs: number, info: string): Promise<LeaseMember[]> {
    this.#members.set(member, { expiresAt: this.#now() + ttlMs, info });
    return this.members();
  }

  async members(): Promise<LeaseMember[]> {
    const now = this.#now();
    const out: LeaseMember[] = [];
    for (const [member, m] of this.#members) {
      if (m.expiresAt <= now) this.#members.delete(member);
      else out.push({ member, info: m.info });
    }
    return out.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  }

  async leave(member: string): Promise<void> {
    this.#members.delete(member);
  }

  async acquireLease(partition: number, member: string, ttlMs: number): Promise<boolean> {
    const holder = this.holder(partition);
    if (holder !== null && holder !== member) return false;
    this.#leases.set(partition, { member, expiresAt: this.#now() + ttlMs });
    return true;
  }

  async renewLease(partition: number, member: string, ttlMs: number): Promise<boolean> {
    if (this.holder(partition) !== member) return false;
    this.#leases.set(partition, { member, expiresAt: this.#now() + ttlMs });
    return true;
  }

  async releaseLease(partition: number, member: string): Promise<boolean> {
    if (this.holder(partition) !== member) return false;
    this.#leases.delete(partition);
    return true;
  }

  async leaseOwners(): Promise<(string | null)[]> {
    return Array.from({ length: this.partitions }, (_, p) => this.holder(p));
  }
}
