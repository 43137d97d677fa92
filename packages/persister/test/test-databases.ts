/** The two database backends a persister contract test runs against: Postgres and embedded PGlite. */
import { createTestDatabase, hasServices, tempDataDir } from '@devicelink/test-env';
import { afterAll, beforeAll } from 'vitest';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';

/** A backend: its name, whether it can run here, and how to open a fresh database (and drop it). */
export type TestBackend = [
  name: string,
  available: boolean,
  open: () => Promise<{ db: PersisterDb; drop(): Promise<void> }>,
];

/** Postgres (a database of its own named after `label`) and PGlite (a temporary data dir). */
export function testBackends(label: string): TestBackend[] {
  return [
    [
      'Postgres',
      hasServices('postgres'),
      async () => {
        const database = await createTestDatabase(label);
        const db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
        return { db, drop: () => database.drop() };
      },
    ],
    [
      'embedded PGlite',
      true,
      async () => {
        const data = tempDataDir(label);
        const db = await createDb({ databaseUrl: null, dataDir: data.dir });
        return { db, drop: async () => data.remove() };
      },
    ],
  ];
}

/**
 * Opens and migrates a database of `backend` before the tests of a `describe` (when it can run here),
 * and closes and drops it after them. `db` is readable from the tests.
 */
export function useMigratedDatabase(available: boolean, open: TestBackend[2]): { readonly db: PersisterDb } {
  let db: PersisterDb | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (!available) return;
    ({ db, drop } = await open());
    await migrate(db.db);
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });
  return {
    get db() {
      if (!db) throw new Error('no database: the backend is not available here');
      return db;
    },
  };
}
