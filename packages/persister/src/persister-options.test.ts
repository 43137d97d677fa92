import type { PartitionLeases, QueueConsumer } from '@devicelink/protocol';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { resolvePersisterOptions } from './persister-options.js';
import type { Database } from './schema.js';

// Only the look-back is read here: the queue and the database stand in as plain objects.
const queue = (conversionLookbackDays?: number) =>
  ({ partitions: 4, conversionLookbackDays }) as unknown as QueueConsumer & PartitionLeases;
const db = {} as Kysely<Database>;

describe('the conversion look-back, set once on the store', () => {
  it("takes the store's, else 30", () => {
    expect(resolvePersisterOptions({ db, queue: queue(7) }).lookbackDays).toBe(7);
    expect(resolvePersisterOptions({ db, queue: queue() }).lookbackDays).toBe(30);
    expect(resolvePersisterOptions({ db, queue: queue(), lookbackDays: 12 }).lookbackDays).toBe(12);
    expect(resolvePersisterOptions({ db, queue: queue(7), lookbackDays: 7 }).lookbackDays).toBe(7);
  });

  it("refuses a persister's that differs from the store's, naming both", () => {
    expect(() => resolvePersisterOptions({ db, queue: queue(7), lookbackDays: 30 })).toThrow(
      /lookbackDays \(30\) differs from the store's conversionLookbackDays \(7\)/,
    );
  });
});
