/**
 * The embedded store's queue: Redis Streams consumer-group semantics in process. `read` hands out
 * entries never delivered and marks them pending for the consumer, `reclaim` moves entries pending
 * longer than `minIdleMs` to another consumer, `ack` deletes. With a journal the queue survives a crash
 * of the process (see `queue-journal.ts`).
 */

import type {
  AckOptions,
  QueueConsumer,
  QueueEntry,
  QueueRecord,
  ReadOptions,
  TakeOverResult,
} from '@devicelink/protocol';
import { LeaseLostError, partitionOf } from '@devicelink/protocol';
import { DeviceLinkUsageError } from '../errors.js';
import { QueueFullError } from '../store/store-errors.js';
import { type JournalEntry, QueueJournal } from './queue-journal.js';

/** Options of {@link MemoryQueue}. */
export interface MemoryQueueOptions {
  partitions: number;
  /** When set, appends and acks are journaled to this file and replayed on construction. */
  journalPath?: string | undefined;
  /** Clock for pending idle times; injectable for tests. */
  now?: () => number;
  /**
   * Most unacknowledged records held; beyond it `append` and the store's `ensureRoom` checks throw
   * {@link QueueFullError} (erasures are let through). Default: no bound.
   */
  maxQueued?: number;
  /** Who holds each partition's lease, for the `leased` and `owner` checks (default: nobody). */
  leaseHolder?: (partition: number) => string | null;
}

interface Slot {
  seq: number;
  record: QueueRecord;
  /** Consumer owning the pending entry; null while never delivered. */
  consumer: string | null;
  deliveredAt: number;
  /** When it was appended (Unix ms; for a replayed entry, the record's own time). */
  queuedAt: number;
}

interface Partition {
  /** Every unacknowledged entry by sequence, in append order (Map keeps insertion order). */
  entries: Map<number, Slot>;
  /** Sequences never delivered, oldest first; acked ones are skipped when met. */
  unread: number[];
  unreadHead: number;
}

/** In-process {@link QueueConsumer}. Every method completes synchronously, so each is atomic. */
export class MemoryQueue implements QueueConsumer {
  readonly partitions: number;
  readonly #parts: Partition[];
  readonly #journal: QueueJournal | null;
  readonly #now: () => number;
  readonly #maxQueued: number;
  readonly #holder: (partition: number) => string | null;
  #seq = 0;
  #size = 0;
  /** Lines in the journal file since it was last rewritten. */
  #journalLines = 0;

  constructor(options: MemoryQueueOptions) {
    this.partitions = options.partitions;
    this.#now = options.now ?? Date.now;
    this.#maxQueued = options.maxQueued ?? Number.POSITIVE_INFINITY;
    this.#holder = options.leaseHolder ?? (() => null);
    this.#parts = Array.from({ length: options.partitions }, () => ({
      entries: new Map(),
      unread: [],
      unreadHead: 0,
    }));
    this.#journal = options.journalPath ? new QueueJournal(options.journalPath, options.partitions) : null;
    if (this.#journal) {
      // A journal of another partition count is refused (replay throws): re-homing its entries would
      // break each device's order, as a changed `partitions` is refused on Redis.
      const kept = this.#journal.replay();
      for (const e of kept) {
        this.#insert(e.partition, e.seq, e.record, recordTime(e.record));
        this.#seq = Math.max(this.#seq, e.seq);
      }
      this.#journal.compact(this.#all());
      this.#journalLines = this.#size;
    }
  }

  /** Test-only: appends to the partition of `partitionKey` (real records come from the store). */
  async append(partitionKey: string, records: QueueRecord[]): Promise<void> {
    this.ensureRoom(records.length);
    this.appendToPartition(partitionOf(partitionKey, this.partitions), records);
  }

  /**
   * Synchronous append to a known partition, used by the memory session store so that a session
   * update and its queue entries happen in one step. The journal is written before anything is visible.
   */
  appendToPartition(partition: number, records: readonly QueueRecord[]): void {
    const entries: JournalEntry[] = records.map((record) => ({ partition, seq: ++this.#seq, record }));
    if (this.#journal) {
      this.#journal.appended(entries);
      this.#journalLines += entries.length;
    }
    const now = this.#now();
    for (const e of entries) this.#insert(partition, e.seq, e.record, now);
  }

  /**
   * Throws {@link QueueFullError} when `count` more records would exceed `maxQueued`; the memory store
   * asks before it changes a session, so a refused touch changes nothing.
   */
  ensureRoom(count: number): void {
    if (count > 0 && this.#size + count > this.#maxQueued) throw new QueueFullError(this.#maxQueued);
  }

  async read(
    partition: number,
    consumer: string,
    count: number,
    options: ReadOptions = {},
  ): Promise<QueueEntry[]> {
    const p = this.#part(partition);
    if (options.leased) this.#checkLease(partition, consumer);
    const out: QueueEntry[] = [];
    const now = this.#now();
    if (options.pending) {
      for (const slot of p.entries.values()) {
        if (out.length >= count) break;
        if (slot.consumer !== consumer) continue;
        slot.deliveredAt = now;
        out.push({ partition, id: String(slot.seq), record: slot.record });
      }
      return out;
    }
    while (out.length < count && p.unreadHead < p.unread.length) {
      const seq = p.unread[p.unreadHead++]!;
      const slot = p.entries.get(seq);
      if (!slot) continue;
      slot.consumer = consumer;
      slot.deliveredAt = now;
      out.push({ partition, id: String(seq), record: slot.record });
    }
    if (p.unreadHead > 1024 && p.unreadHead * 2 > p.unread.length) {
      p.unread = p.unread.slice(p.unreadHead);
      p.unreadHead = 0;
    }
    return out;
  }

  async reclaim(
    partition: number,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<QueueEntry[]> {
    const p = this.#part(partition);
    const out: QueueEntry[] = [];
    const now = this.#now();
    for (const slot of p.entries.values()) {
      if (out.length >= count) break;
      if (slot.consumer === null || now - slot.deliveredAt < minIdleMs) continue;
      slot.consumer = consumer;
      slot.deliveredAt = now;
      out.push({ partition, id: String(slot.seq), record: slot.record });
    }
    return out;
  }

  async takeOver(partition: number, consumer: string): Promise<TakeOverResult> {
    const p = this.#part(partition);
    this.#checkLease(partition, consumer);
    let claimed = 0;
    for (const slot of p.entries.values()) {
      if (slot.consumer === null || slot.consumer === consumer) continue;
      slot.consumer = consumer;
      slot.deliveredAt = this.#now();
      claimed++;
    }
    // Consumers exist only through their pending entries here: none is left to remove.
    return { claimed, removedConsumers: 0 };
  }

  async ack(partition: number, ids: string[], options: AckOptions = {}): Promise<void> {
    const p = this.#part(partition);
    if (options.owner !== undefined && ids.length > 0) this.#checkLease(partition, options.owner);
    const seqs = ids.map(Number).filter((seq) => p.entries.has(seq));
    if (seqs.length === 0) return;
    if (this.#journal) {
      // Drained: start the file afresh instead of journaling the ack (compaction).
      if (this.#size === seqs.length) {
        this.#journal.truncate();
        this.#journalLines = 0;
      } else {
        this.#journal.acked(partition, seqs);
        this.#journalLines++;
      }
    }
    for (const seq of seqs) p.entries.delete(seq);
    this.#size -= seqs.length;
    // Under steady traffic the queue may never drain: rewrite the file once it is mostly dead lines.
    if (this.#journal && this.#journalLines > 10_000 && this.#size * 4 < this.#journalLines) {
      this.#journal.compact(this.#all());
      this.#journalLines = this.#size;
    }
  }

  async depth(partition: number): Promise<number> {
    return this.#part(partition).entries.size;
  }

  async oldest(partition: number): Promise<number | null> {
    // Entries are deleted at ack and kept in append order: the first is the oldest unacknowledged.
    const first = this.#part(partition).entries.values().next();
    return first.done ? null : first.value.queuedAt;
  }

  async removeConsumer(partition: number, consumer: string): Promise<boolean> {
    // Consumers exist only through their pending entries here: one holding none is already gone.
    for (const slot of this.#part(partition).entries.values()) if (slot.consumer === consumer) return false;
    return true;
  }

  #insert(partition: number, seq: number, record: QueueRecord, queuedAt: number): void {
    const p = this.#part(partition);
    p.entries.set(seq, { seq, record, consumer: null, deliveredAt: 0, queuedAt });
    p.unread.push(seq);
    this.#size++;
  }

  #checkLease(partition: number, consumer: string): void {
    if (this.#holder(partition) !== consumer) throw new LeaseLostError(partition);
  }

  #part(partition: number): Partition {
    const p = this.#parts[partition];
    if (!p) throw new DeviceLinkUsageError(`partition ${partition} is outside 0..${this.partitions - 1}`);
    return p;
  }

  #all(): JournalEntry[] {
    const out: JournalEntry[] = [];
    this.#parts.forEach((p, partition) => {
      for (const s of p.entries.values()) out.push({ partition, seq: s.seq, record: s.record });
    });
    return out.sort((a, b) => a.seq - b.seq);
  }
}

const recordTime = (record: QueueRecord): number =>
  record.kind === 'pageview' ? record.serverTs : record.ts;
