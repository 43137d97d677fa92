/**
 * A migrated Postgres database for one test file, a memory store per test on a clock the test moves,
 * and the persisters the test starts, stopped after it.
 */
import { createMemoryStore, type MemoryStore } from '@devicelink/fastify';
import type { QueueEntry } from '@devicelink/protocol';
import { createTestDatabase } from '@devicelink/test-env';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { createPersister, type Persister, type PersisterOptions } from '../src/persister.js';

export interface PersisterHarness {
  /** The test database (its URL, to reach it through a proxy). */
  readonly database: { url: string; drop(): Promise<void> };
  readonly db: PersisterDb;
  readonly stores: MemoryStore;
  /** The store's clock: move it to let time pass. */
  clock: number;
  /** The persisters the test started: stopped after it. */
  readonly persisters: Persister[];
  /**
   * A new persister after the previous ones gave their partitions back (a clean stop): one at a time.
   * `options` are added to the harness defaults.
   */
  newPersister(options?: Partial<PersisterOptions>): Promise<Persister>;
  /** Every entry of every partition, read by consumer `x`. */
  readAll(): Promise<QueueEntry[]>;
  /** Entries left in the queue over every partition. */
  depth(): Promise<number>;
  /** The sessions of a device, oldest first. */
  sessionsOf(deviceId: string): ReturnType<ReturnType<typeof rowsOf>['sessionsOf']>;
  /** The page views of a device. */
  pageViewsOf(deviceId: string): ReturnType<ReturnType<typeof rowsOf>['pageViewsOf']>;
}

function rowsOf(db: PersisterDb['db']) {
  return {
    sessionsOf: (deviceId: string) =>
      db.selectFrom('sessions').selectAll().where('device_id', '=', deviceId).orderBy('first_seen').execute(),
    pageViewsOf: (deviceId: string) =>
      db.selectFrom('page_views').selectAll().where('device_id', '=', deviceId).execute(),
  };
}

/** Registers the hooks of a persister test file on a database named after `label`. */
export function usePersisterHarness(
  label: string,
  partitions: number,
  defaults: Partial<PersisterOptions> = {},
): PersisterHarness {
  let database: PersisterHarness['database'];
  let db: PersisterDb;
  let stores: MemoryStore;
  const persisters: Persister[] = [];
  const stopAll = () => Promise.all(persisters.splice(0).map((p) => p.stop()));

  const h: PersisterHarness = {
    get database() {
      return database;
    },
    get db() {
      return db;
    },
    get stores() {
      return stores;
    },
    clock: 0,
    persisters,
    async newPersister(options = {}) {
      await stopAll();
      const p = createPersister({
        db: db.db,
        queue: stores,
        lookbackDays: 30,
        idleMs: 10,
        ...defaults,
        ...options,
      });
      persisters.push(p);
      return p;
    },
    async readAll() {
      const read: QueueEntry[] = [];
      for (let i = 0; i < partitions; i++) read.push(...(await stores.read(i, 'x', 100)));
      return read;
    },
    async depth() {
      let n = 0;
      for (let i = 0; i < partitions; i++) n += await stores.depth(i);
      return n;
    },
    sessionsOf: (deviceId) => rowsOf(db.db).sessionsOf(deviceId),
    pageViewsOf: (deviceId) => rowsOf(db.db).pageViewsOf(deviceId),
  };

  beforeAll(async () => {
    database = await createTestDatabase(label);
    db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
    await migrate(db.db);
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });
  beforeEach(() => {
    h.clock = Date.now();
    stores = createMemoryStore({ partitions, now: () => h.clock });
  });
  afterEach(async () => {
    await stopAll();
    await stores.close();
  });
  return h;
}
