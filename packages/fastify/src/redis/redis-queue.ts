/**
 * The queue on Redis Streams: one stream per partition, one consumer group (`persist`) per stream,
 * created lazily from the beginning of the stream (`0`), so nothing appended earlier is skipped.
 * Each call touches one partition, hence one slot: Cluster refuses multi-slot reads.
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
import { decodeRecord, encodeRecord } from '../records/record-encoding.js';
import type { CommandClient } from './redis-commands.js';
import type { RedisKeys } from './redis-keys.js';

/** The consumer group every persister reads through. */
const CONSUMER_GROUP = 'persist';

type StreamEntries = [id: string, fields: string[] | null][];

/** A stream entry that could not be decoded into a queue record; it was acknowledged and deleted. */
export interface PoisonEntry {
  partition: number;
  id: string;
  /** The entry's raw fields (`[name, value, …]`). */
  fields: string[];
  /** Why decoding failed. */
  error: Error;
}

/** Options of {@link RedisQueue}. */
export interface RedisQueueOptions {
  /**
   * Called for each entry that cannot be decoded (bad JSON, unknown kind, e.g. written by a newer
   * version or by hand), after it was acknowledged and deleted: left pending it would be reclaimed
   * and fail again forever, blocking its partition. Default: a process warning.
   */
  onPoisonEntry?: (entry: PoisonEntry) => void;
}

const warnPoison = (entry: PoisonEntry): void => {
  process.emitWarning(
    `devicelink: dropped undecodable queue entry ${entry.id} of partition ${entry.partition}: ${entry.error.message}`,
    { code: 'DL_POISON_ENTRY' },
  );
};

/** {@link QueueConsumer} on Redis Streams, plus the test-only append. Built by `createRedisStore`. */
export class RedisQueue implements QueueConsumer {
  readonly partitions: number;
  readonly #redis: CommandClient;
  readonly #keys: RedisKeys;
  readonly #grouped = new Set<number>();
  readonly #onPoison: (entry: PoisonEntry) => void;

  constructor(redis: CommandClient, keys: RedisKeys, options: RedisQueueOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.partitions = keys.partitions;
    this.#onPoison = options.onPoisonEntry ?? warnPoison;
  }

  /** Test-only: appends records to the partition of `partitionKey` (real records come from the scripts). */
  async append(partitionKey: string, records: QueueRecord[]): Promise<void> {
    if (records.length === 0) return;
    const stream = this.#keys.stream(partitionOf(partitionKey, this.partitions));
    await this.#redis.dlAppend(stream, ...records.map(encodeRecord));
  }

  async read(
    partition: number,
    consumer: string,
    count: number,
    options: ReadOptions = {},
  ): Promise<QueueEntry[]> {
    const stream = this.#stream(partition);
    const id = options.pending ? '0' : '>';
    const reply = (await this.#withGroup(partition, () =>
      options.leased
        ? this.#redis.dlRead(stream, this.#keys.lease(partition), CONSUMER_GROUP, consumer, count, id, '1')
        : this.#redis.xreadgroup('GROUP', CONSUMER_GROUP, consumer, 'COUNT', count, 'STREAMS', stream, id),
    )) as [string, StreamEntries][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    if (options.pending) {
      // A pending entry deleted meanwhile comes back without fields: acknowledge it, or every read of
      // the pending list would return it again.
      const gone = entries.filter(([, fields]) => !fields).map(([entryId]) => entryId);
      if (gone.length > 0) await this.#redis.xack(stream, CONSUMER_GROUP, ...gone);
    }
    return this.#toEntries(partition, entries);
  }

  async takeOver(partition: number, consumer: string): Promise<TakeOverResult> {
    const stream = this.#stream(partition);
    const [claimed, removedConsumers] = await this.#withGroup(partition, () =>
      this.#redis.dlTakeover(stream, this.#keys.lease(partition), CONSUMER_GROUP, consumer),
    );
    return { claimed, removedConsumers };
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
      out.push(...(await this.#toEntries(partition, entries)));
      cursor = next;
    } while (cursor !== '0-0' && out.length < count);
    return out;
  }

  async ack(partition: number, ids: string[], options: AckOptions = {}): Promise<void> {
    if (ids.length === 0) return;
    await this.#leased(partition, () =>
      this.#redis.dlAck(
        this.#stream(partition),
        this.#keys.lease(partition),
        CONSUMER_GROUP,
        options.owner ?? '',
        ...ids,
      ),
    );
  }

  async removeConsumer(partition: number, consumer: string): Promise<boolean> {
    if (!this.#grouped.has(partition)) return false;
    const stream = this.#stream(partition);
    // XGROUP DELCONSUMER drops the consumer's pending entries with it: only an empty one goes. The
    // consumer is the caller's own, stopped, so nothing is delivered to it between the two commands.
    const pending = (await this.#redis.xpending(stream, CONSUMER_GROUP, '-', '+', 1, consumer)) as unknown[];
    if (pending.length > 0) return false;
    await this.#redis.xgroup('DELCONSUMER', stream, CONSUMER_GROUP, consumer);
    return true;
  }

  async depth(partition: number): Promise<number> {
    // Entries are deleted at ack, so the length is what is unread or pending.
    return this.#redis.xlen(this.#stream(partition));
  }

  /**
   * Server time (Unix ms) at which the partition's oldest entry was appended, or null when it is
   * empty. Entries are deleted at ack, so this is the oldest event not yet persisted, read or not.
   */
  async oldest(partition: number): Promise<number | null> {
    const reply = (await this.#redis.xrange(this.#stream(partition), '-', '+', 'COUNT', 1)) as StreamEntries;
    const id = reply[0]?.[0];
    return id ? Number(id.slice(0, id.indexOf('-'))) : null;
  }

  /** Decodes entries; undecodable ones are acknowledged, deleted and reported, never returned. */
  async #toEntries(partition: number, entries: StreamEntries): Promise<QueueEntry[]> {
    const out: QueueEntry[] = [];
    const poison: PoisonEntry[] = [];
    // An entry deleted while pending comes back with no fields (Redis < 7); nothing is left to deliver.
    for (const [id, fields] of entries) {
      if (!fields) continue;
      try {
        out.push({ partition, id, record: checked(decodeRecord(fields)) });
      } catch (err) {
        poison.push({ partition, id, fields, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    if (poison.length > 0) {
      await this.ack(
        partition,
        poison.map((e) => e.id),
      );
      for (const entry of poison) this.#onPoison(entry);
    }
    return out;
  }

  #stream(partition: number): string {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new DeviceLinkUsageError(`partition ${partition} is outside 0..${this.partitions - 1}`);
    }
    return this.#keys.stream(partition);
  }

  /** Runs a lease-checking script; its refusal becomes a {@link LeaseLostError}. */
  async #leased<T>(partition: number, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (String((err as Error).message).includes('DL_LEASE_LOST')) throw new LeaseLostError(partition);
      throw err;
    }
  }

  /** Runs `op` with the partition's group in place; recreates it once if the stream was deleted. */
  async #withGroup<T>(partition: number, op: () => Promise<T>): Promise<T> {
    if (!this.#grouped.has(partition)) await this.#createGroup(partition);
    try {
      return await this.#leased(partition, op);
    } catch (err) {
      // A script relays the error of a command it ran; its message starts with the script's prefix.
      if (!String((err as Error).message).includes('NOGROUP')) throw err;
      await this.#createGroup(partition);
      return this.#leased(partition, op);
    }
  }

  async #createGroup(partition: number): Promise<void> {
    // group.lua: XGROUP CREATE … MKSTREAM, an existing group being no error.
    await this.#redis.dlGroup(this.#keys.stream(partition), CONSUMER_GROUP);
    this.#grouped.add(partition);
  }
}

// Fields a record cannot be written without; an entry lacking one would fail its batch forever.
const REQUIRED: Record<string, readonly string[]> = {
  pageview: ['eventId', 'url'],
  link: ['deviceId', 'userId'],
  alias: ['deviceId', 'aliasId'],
  erase: ['deviceId'],
  'erase-user': ['userId'],
};

/** The record, or a TypeError naming the first missing field. */
function checked(record: QueueRecord): QueueRecord {
  const fields = record as unknown as Record<string, unknown>;
  for (const name of REQUIRED[record.kind] ?? []) {
    if (typeof fields[name] !== 'string' || fields[name] === '') {
      throw new TypeError(`${record.kind} record without ${name}`);
    }
  }
  const ts = record.kind === 'pageview' ? record.serverTs : record.ts;
  if (!Number.isFinite(ts)) throw new TypeError(`${record.kind} record without a time`);
  return record;
}
