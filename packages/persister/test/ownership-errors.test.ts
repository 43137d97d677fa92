/**
 * A store that fails every partition's takeover at once (a Redis timing out during a long
 * pass) is reported once per round, naming the partitions, not once per partition: the lease keeper
 * logged 32 warnings with full stacks at once.
 */
import { createMemoryStore } from '@devicelink/fastify';
import type { PartitionLeases, QueueConsumer } from '@devicelink/protocol';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { PartitionOwnership } from '../src/partition-ownership.js';

describe.runIf(hasServices('postgres'))('lease keeper errors', () => {
  let database: { url: string; drop(): Promise<void> };
  let db: PersisterDb;

  beforeAll(async () => {
    database = await createTestDatabase('ownership-errors');
    db = await createDb({ databaseUrl: database.url });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  /** The memory store with its takeovers failing while `failing.on`. */
  function failingStore(failing: { on: boolean }) {
    const store = createMemoryStore({ partitions: 8 });
    const queue = new Proxy(store, {
      get(target, property) {
        if (property === 'takeOver' && failing.on) {
          return async () => {
            throw new Error('Command timed out');
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as unknown as QueueConsumer & PartitionLeases;
    return { store, queue };
  }

  it('reports the failed takeovers of a round once, naming every partition', async () => {
    const failing = { on: true };
    const { store, queue } = failingStore(failing);
    const reports: string[] = [];
    const ownership = new PartitionOwnership({
      db: db.db,
      queue,
      member: 'keeper-a',
      leaseMs: 40,
      info: () => '{}',
      onError: (_err, context) => reports.push(context),
    });
    // Taking all eight partitions: every takeover fails in one round.
    await ownership.tick();
    expect(reports).toEqual(['leases (take over partitions 0, 1, 2, 3, 4, 5, 6, 7)']);

    // Taken this time; a lease time later the sweep's takeovers fail together too.
    failing.on = false;
    await ownership.tick();
    expect(ownership.held()).toHaveLength(8);
    failing.on = true;
    reports.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
    await ownership.tick();
    expect(reports).toEqual(['leases (take over partitions 0, 1, 2, 3, 4, 5, 6, 7)']);
    await ownership.releaseAll();
    await store.close();
  });
});
