/**
 * The queue on Redis Streams: one stream per partition, one consumer group (`persist`) per stream,
 * created lazily from the beginning of the stream (`0`), so nothing appended earlier is skipped.
 * Each call touches one partition, hence one slot: Cluster refuses multi-slot reads.
 */
import { partitionOf } from '@devicelink/protocol';
import type { EventQueue, QueueEntry, QueueRecord } from '../event-queue.js';
import type { CommandClient } from '../stores/redis-commands.js';
import type { RedisKeys } from '../stores/redis-keys.js';
import { decodeRecord, encodeRecord } from './stream-record.js';

/** The consumer group every persister reads through. */
export const CONSUMER_GROUP = 'persist';

type StreamEntries = [id: string, fields: string[] | null][];

/** {@link EventQueue} on Redis Streams. Built by `createRedisStores`. */
export class RedisEventQueue implements EventQueue {
  readonly partitions: number;
  readonly #redis: CommandClient;
  readonly #keys: RedisKeys;
  readonly #grouped = new Set<number>();

  constructor(redis: CommandClient, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    this.partitions = keys.partitions;
  }

  async append(partitionKey: string, records: QueueRecord[]): Promise<void> {
    if (records.length === 0) return;
    const stream = this.#keys.stream(partitionOf(partitionKey, this.partitions));
    await this.#redis.dlAppend(1, stream, ...records.map(encodeRecord));
  }

  async read(partition: number, consumer: string, count: number): Promise<QueueEntry[]> {
    const stream = this.#stream(partition);
    const reply = (await this.#withGroup(partition, () =>
      this.#redis.xreadgroup('GROUP', CONSUMER_GROUP, consumer, 'COUNT', count, 'STREAMS', stream, '>'),
    )) as [string, StreamEntries][] | null;
    return toEntries(partition, reply?.[0]?.[1] ?? []);
  }

  async reclaim(
    partition: number,
    consumer: string,
    minIdleMs: number,
    count: number,
  ): Promise<QueueEntry[]> {
    const stream = this.#stream(partition);
    const out: QueueEntry[] = [];
    let cursor = '0-0';
    // XAUTOCLAIM scans the pending list in pages; follow the cursor until `count` or the end.
    do {
      const [next, entries] = (await this.#withGroup(partition, () =>
        this.#redis.xautoclaim(
          stream,
          CONSUMER_GROUP,
          consumer,
          minIdleMs,
          cursor,
          'COUNT',
          count - out.length,
        ),
      )) as [string, StreamEntries, string[]?];
      out.push(...toEntries(partition, entries));
      cursor = next;
    } while (cursor !== '0-0' && out.length < count);
    return out;
  }

  async ack(partition: number, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#redis.dlAck(1, this.#stream(partition), CONSUMER_GROUP, ...ids);
  }

  async depth(partition: number): Promise<number> {
    // Entries are deleted at ack, so the length is what is unread or pending.
    return this.#redis.xlen(this.#stream(partition));
  }

  #stream(partition: number): string {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new RangeError(`partition ${partition} is outside 0..${this.partitions - 1}`);
    }
    return this.#keys.stream(partition);
  }

  /** Runs `op` with the partition's group in place; recreates it once if the stream was deleted. */
  async #withGroup<T>(partition: number, op: () => Promise<T>): Promise<T> {
    if (!this.#grouped.has(partition)) await this.#createGroup(partition);
    try {
      return await op();
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOGROUP')) throw err;
      await this.#createGroup(partition);
      return op();
    }
  }

  async #createGroup(partition: number): Promise<void> {
    try {
      await this.#redis.xgroup('CREATE', this.#keys.stream(partition), CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
    }
    this.#grouped.add(partition);
  }
}

function toEntries(partition: number, entries: StreamEntries): QueueEntry[] {
  const out: QueueEntry[] = [];
  // An entry deleted while pending comes back with no fields (Redis < 7); nothing is left to deliver.
  for (const [id, fields] of entries) if (fields) out.push({ partition, id, record: decodeRecord(fields) });
  return out;
}
