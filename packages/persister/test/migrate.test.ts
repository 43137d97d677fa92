import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, hasServices } from '@devicelink/test-env';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { migrationProvider } from '../src/migrations/index.js';

describe.runIf(hasServices('postgres'))('migrations on Postgres', () => {
  it('three processes migrating at once all succeed and the schema is created once', async () => {
    const database = await createTestDatabase('migrate');
    const dbs = await Promise.all(
      [1, 2, 3].map(() => createDb({ databaseUrl: database.url, dataDir: '/nonexistent' })),
    );
    try {
      const all = Object.keys(await migrationProvider.getMigrations());
      const applied = await Promise.all(dbs.map((d) => migrate(d.db)));
      expect(applied.flat().sort()).toEqual(all.sort());
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(
        dbs[0]!.db,
      );
      expect(rows[0]!.n).toBe(all.length);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
      await database.drop();
    }
  });

  it('maintenance work (migrations, a roll-up rebuild) runs without the query timeout that fails a long statement', async () => {
    const database = await createTestDatabase('maintenance');
    // 200 ms stands in for the default 30 s: a statement of 400 ms is "a rebuild over millions of rows".
    const d = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent', queryTimeoutMs: 200 });
    const long = (db: typeof d.db) => sql<{ ok: number }>`select 1 as ok from pg_sleep(0.4)`.execute(db);
    try {
      await expect(long(d.db)).rejects.toThrow(/timeout/i);
      expect((await d.maintenance(long)).rows).toEqual([{ ok: 1 }]);
      // The maintenance pool is closed after the work: only the main pool's connections remain.
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity where datname = current_database()`.execute(d.db);
      expect(rows[0]!.n).toBeLessThanOrEqual(2);
    } finally {
      await d.close();
      await database.drop();
    }
  });
});

describe('migrations on embedded PGlite', () => {
  it('creates the schema in DATA_DIR and keeps data across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-pglite-'));
    try {
      const first = await createDb({ databaseUrl: null, dataDir: dir });
      await migrate(first.db);
      await first.db
        .insertInto('devices')
        .values({ device_id: 'device-aaaaaaaaaaaa', first_seen: new Date(), last_seen: new Date() })
        .execute();
      await first.close();
      const second = await createDb({ databaseUrl: null, dataDir: dir });
      expect(await migrate(second.db)).toEqual([]);
      const rows = await second.db.selectFrom('devices').selectAll().execute();
      expect(rows.map((r) => r.device_id)).toEqual(['device-aaaaaaaaaaaa']);
      // The device count's triggers run in PGlite too.
      const count = await sql<{ n: string }>`select sum(n)::text as n from device_count`.execute(second.db);
      expect(count.rows[0]!.n).toBe('1');
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
