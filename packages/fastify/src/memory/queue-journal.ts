/**
 * The memory queue's optional durable journal: one JSON line per appended record and per ack,
 * written synchronously before the append resolves, so an embedded collector that answered 202 keeps
 * the event through a crash. On open the file is replayed and rewritten with only the unacknowledged
 * records (compaction); it is truncated again whenever the queue drains. The first line names the
 * partition count (`{"partitions":N}`): a journal of another count is refused at replay, because its
 * entries cannot be moved to other partitions without breaking each device's order.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { QueueRecord } from '@devicelink/protocol';
import { QueuePartitionsMismatchError } from '../store/store-errors.js';

/** A record the journal holds: where it sits in the queue and what it is. */
export interface JournalEntry {
  partition: number;
  seq: number;
  record: QueueRecord;
}

type Line = { a: [number, number, QueueRecord] } | { k: [number, number[]] } | { partitions: number };

/** Append-only journal file of a memory queue. */
export class QueueJournal {
  readonly #path: string;
  readonly #partitions: number;
  readonly #header: string;

  constructor(path: string, partitions: number) {
    this.#path = path;
    this.#partitions = partitions;
    this.#header = `${JSON.stringify({ partitions })}\n`;
  }

  /**
   * Reads the file and returns the records never acknowledged, in order. A torn last line (a crash
   * in the middle of a write) is ignored: its append never resolved, so nobody was told it was kept.
   * Throws {@link QueuePartitionsMismatchError} for a journal of another partition count (a journal
   * without the header line, from an older version, is refused only when an entry does not fit).
   */
  replay(): JournalEntry[] {
    if (!existsSync(this.#path)) return [];
    const live = new Map<string, JournalEntry>();
    for (const text of readFileSync(this.#path, 'utf8').split('\n')) {
      if (text.length === 0) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue;
      }
      if ('partitions' in line) {
        if (line.partitions !== this.#partitions) {
          throw new QueuePartitionsMismatchError(
            line.partitions,
            this.#partitions,
            `the queue journal ${this.#path} was`,
          );
        }
      } else if ('a' in line) {
        const [partition, seq, record] = line.a;
        live.set(`${partition}:${seq}`, { partition, seq, record });
      } else if ('k' in line) {
        const [partition, seqs] = line.k;
        for (const seq of seqs) live.delete(`${partition}:${seq}`);
      }
    }
    const entries = [...live.values()];
    const outside = entries.find((e) => e.partition >= this.#partitions);
    if (outside) {
      throw new QueuePartitionsMismatchError(
        outside.partition + 1,
        this.#partitions,
        `the queue journal ${this.#path} (no header line) holds partition ${outside.partition}: it was`,
      );
    }
    return entries;
  }

  /** Rewrites the file so it holds exactly `entries` (written beside it, then renamed over it). */
  compact(entries: readonly JournalEntry[]): void {
    const tmp = `${this.#path}.tmp`;
    writeFileSync(
      tmp,
      this.#header +
        entries.map((e) => `${JSON.stringify({ a: [e.partition, e.seq, e.record] })}\n`).join(''),
    );
    renameSync(tmp, this.#path);
  }

  /** Journals appended records; returns once they are written. */
  appended(entries: readonly JournalEntry[]): void {
    if (entries.length === 0) return;
    appendFileSync(
      this.#path,
      entries.map((e) => `${JSON.stringify({ a: [e.partition, e.seq, e.record] })}\n`).join(''),
    );
  }

  /** Journals acknowledged records of one partition. */
  acked(partition: number, seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    appendFileSync(this.#path, `${JSON.stringify({ k: [partition, seqs] })}\n`);
  }

  /** Empties the file (everything is acknowledged). */
  truncate(): void {
    writeFileSync(this.#path, this.#header);
  }
}
