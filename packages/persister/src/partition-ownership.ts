/**
 * Which queue partitions this persister works on. Persisters announce themselves with a heartbeat (the
 * store's membership) and split the partitions by the sorted member list: partition p belongs to member
 * number p mod n, so each owns partitions/members, and every member computes the same split. A
 * partition is worked on only under its lease (exclusive, renewed every quarter of the lease time):
 * a member that joins gets its share once the others hand it over (at their next tick, between two
 * passes), and a member that stops, dies or freezes loses its share when its heartbeat and leases
 * expire, within the lease time. Taking a partition advances its fence in Postgres (see
 * `partition-fence.ts`) and takes over, at once, every entry pending in it (`takeOver`): whoever read
 * them last can no longer commit them.
 *
 * Local validity: a lease counts as held until the time its last renewal was sent plus the lease time
 * (the store's expiry is later than that); a process frozen past it sees the lease expired as soon as it
 * runs again, before it reads or commits anything.
 */
import type { PartitionLeases, QueueConsumer } from '@devicelink/protocol';
import type { Kysely } from 'kysely';
import { advanceFences } from './partition-fence.js';
import type { Database } from './schema.js';

/** A partition this persister holds. */
export interface HeldPartition {
  partition: number;
  /** The fence epoch taken with the lease: the pass transactions check it. */
  epoch: string;
  /** Local time until which the lease is certainly held. */
  validUntil: number;
  /** Read this consumer's own pending entries first (after a takeover, or a failed ack). */
  pendingFirst: boolean;
  /** When its pending entries were last taken over (at acquisition, then once a lease time). */
  takenOverAt: number;
}

/** Options of {@link PartitionOwnership}. */
export interface OwnershipOptions {
  db: Kysely<Database>;
  queue: QueueConsumer & PartitionLeases;
  member: string;
  leaseMs: number;
  /** What this member publishes with each heartbeat (JSON; shown by collectors' /readyz). */
  info: () => string;
  onError: (err: unknown, context: string) => void;
  /** Called after partitions were taken (with their pending counts) or lost. */
  onChange?: (change: { taken: number[]; lost: number[] }) => void;
}

/** The member's share of `partitions` among the sorted `members` (none when it is not listed). */
function shareOf(member: string, members: readonly string[], partitions: number): number[] {
  const index = members.indexOf(member);
  if (index < 0) return [];
  const out: number[] = [];
  for (let p = 0; p < partitions; p++) if (p % members.length === index) out.push(p);
  return out;
}

/** The lease keeper of one persister. */
export class PartitionOwnership {
  readonly #o: OwnershipOptions;
  readonly #held = new Map<number, HeldPartition>();
  /** Held partitions being handed to another member: not read any more, released when not in a pass. */
  readonly #handOff = new Set<number>();
  /** Partitions in the pass in flight (set by the persister). */
  #inFlight: ReadonlySet<number> = new Set();
  /** After a step-down: no heartbeat and no lease until `resume()`. */
  #standby = false;
  #members = 0;
  #tick: Promise<void> | null = null;

  constructor(options: OwnershipOptions) {
    this.#o = options;
  }

  /** Partitions to read in the next pass: held, valid now and not being handed off, ascending. */
  usable(now = Date.now()): HeldPartition[] {
    const out: HeldPartition[] = [];
    for (const h of this.#held.values()) {
      if (this.#handOff.has(h.partition)) continue;
      if (h.validUntil > now) out.push(h);
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  /** The held partition, if its lease is still valid. */
  valid(partition: number, now = Date.now()): HeldPartition | null {
    const h = this.#held.get(partition);
    return h && h.validUntil > now ? h : null;
  }

  /** Partitions held now (ascending), including those being handed off; with `now`, only valid ones. */
  held(now?: number): number[] {
    const all = [...this.#held.values()].filter((h) => now === undefined || h.validUntil > now);
    return all.map((h) => h.partition).sort((a, b) => a - b);
  }

  /** Live members at the last heartbeat. */
  members(): number {
    return this.#members;
  }

  get standby(): boolean {
    return this.#standby;
  }

  /** The persister marks the partitions of the pass in flight, so none is released under it. */
  setInFlight(partitions: ReadonlySet<number>): void {
    this.#inFlight = partitions;
  }

  /** Forgets a partition the store or Postgres said is no longer ours. */
  lost(partitions: readonly number[]): void {
    const gone = partitions.filter((p) => this.#held.delete(p));
    for (const p of gone) this.#handOff.delete(p);
    if (gone.length > 0) this.#o.onChange?.({ taken: [], lost: gone });
  }

  /**
   * One round: heartbeat, renew what is held, hand off what is no longer this member's share, take
   * what is. Rounds never overlap: a call while one runs waits for it.
   */
  tick(): Promise<void> {
    this.#tick ??= this.#round().finally(() => {
      this.#tick = null;
    });
    return this.#tick;
  }

  /** Gives up every partition and leaves the membership (no heartbeat) until `resume()`. */
  async stepDown(): Promise<void> {
    this.#standby = true;
    await this.#tick;
    await this.releaseAll();
  }

  /** Joins again after a step-down (the next tick heartbeats and takes a share). */
  resume(): void {
    this.#standby = false;
  }

  /** Releases every lease (a clean stop or a step-down) and leaves the membership. */
  async releaseAll(): Promise<void> {
    const { queue, member } = this.#o;
    const all = this.held();
    this.#held.clear();
    this.#handOff.clear();
    const done = await Promise.allSettled([
      queue.leave(member),
      ...all.map((p) => queue.releaseLease(p, member)),
    ]);
    const failed = done.find((d) => d.status === 'rejected');
    if (failed) this.#o.onError(failed.reason, 'leases (release)');
    if (all.length > 0) this.#o.onChange?.({ taken: [], lost: all });
  }

  async #round(): Promise<void> {
    const { queue, member, leaseMs } = this.#o;
    if (this.#standby) return;
    const sentAt = Date.now();
    const members = (await queue.heartbeat(member, leaseMs, this.#o.info())).map((m) => m.member);
    this.#members = members.length;
    const share = new Set(shareOf(member, members, queue.partitions));
    // Hand off what is another member's share now; release it once no pass holds it.
    const released: number[] = [];
    for (const p of this.#held.keys()) {
      if (share.has(p)) {
        this.#handOff.delete(p);
        continue;
      }
      this.#handOff.add(p);
      if (!this.#inFlight.has(p)) released.push(p);
    }
    for (const p of released) {
      this.#held.delete(p);
      this.#handOff.delete(p);
    }
    const renewing = [...this.#held.keys()];
    const [releases, renewals] = await Promise.all([
      Promise.allSettled(released.map((p) => queue.releaseLease(p, member))),
      Promise.allSettled(renewing.map((p) => queue.renewLease(p, member, leaseMs))),
    ]);
    if (releases.some((r) => r.status === 'rejected')) {
      // The lease expires by itself; the next owner waits for it.
      this.#o.onError(releases.find((r) => r.status === 'rejected')?.reason, 'leases (release)');
    }
    const lost: number[] = [...released];
    renewals.forEach((r, i) => {
      const p = renewing[i]!;
      const h = this.#held.get(p);
      if (!h) return;
      if (r.status === 'fulfilled' && r.value) h.validUntil = sentAt + leaseMs;
      else if (r.status === 'fulfilled') {
        this.#held.delete(p);
        lost.push(p);
      }
      // A failed renewal (store unreachable) keeps the local validity: it runs out by itself.
    });
    if (lost.length > 0) this.#o.onChange?.({ taken: [], lost });
    await this.#sweep(sentAt);
    const wanted = [...share].filter((p) => !this.#held.has(p));
    if (wanted.length > 0) await this.#take(wanted, sentAt);
  }

  /**
   * Once a lease time, takes over again whatever is pending in a held partition under another consumer
   * name: nothing should be (reads and acks are lease-checked), but a persister of an older version
   * during a rolling upgrade, or a read sent just before a lease was lost, would leave entries there.
   */
  async #sweep(now: number): Promise<void> {
    const { queue, member, leaseMs } = this.#o;
    const due = [...this.#held.values()].filter((h) => now - h.takenOverAt >= leaseMs);
    const done = await Promise.allSettled(due.map((h) => queue.takeOver(h.partition, member)));
    done.forEach((d, i) => {
      const h = due[i]!;
      h.takenOverAt = now;
      if (d.status === 'fulfilled') {
        if (d.value.claimed > 0) h.pendingFirst = true;
      } else this.#o.onError(d.reason, `leases (take over partition ${h.partition})`);
    });
  }

  /** Takes the free leases among `wanted`, advances their fences and takes over their pending entries. */
  async #take(wanted: number[], sentAt: number): Promise<void> {
    const { queue, member, leaseMs, db } = this.#o;
    const acquired = await Promise.all(wanted.map((p) => queue.acquireLease(p, member, leaseMs)));
    const got = wanted.filter((_, i) => acquired[i]);
    if (got.length === 0) return;
    let epochs: Map<number, string>;
    try {
      epochs = await advanceFences(db, got, member);
    } catch (err) {
      // Without a fence nothing of these partitions could commit: let another member take them.
      this.#o.onError(err, 'leases (fence)');
      await Promise.allSettled(got.map((p) => queue.releaseLease(p, member)));
      return;
    }
    const takeovers = await Promise.allSettled(got.map((p) => queue.takeOver(p, member)));
    const taken: number[] = [];
    takeovers.forEach((t, i) => {
      const partition = got[i]!;
      if (t.status === 'rejected') {
        this.#o.onError(t.reason, `leases (take over partition ${partition})`);
        void queue.releaseLease(partition, member).catch(() => {});
        return;
      }
      this.#held.set(partition, {
        partition,
        epoch: epochs.get(partition)!,
        validUntil: sentAt + leaseMs,
        pendingFirst: true,
        takenOverAt: sentAt,
      });
      taken.push(partition);
    });
    if (taken.length > 0) this.#o.onChange?.({ taken, lost: [] });
  }
}
