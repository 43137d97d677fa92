/**
 * Runs the migrations to the latest version at start-up. Collectors starting together take a
 * session-level Postgres advisory lock on one dedicated connection first, so only one migrates at a
 * time and the others then find nothing to do.
 */
import { type Kysely, Migrator, sql } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

/** Advisory lock key of the collector's migrations (arbitrary, fixed). */
const MIGRATION_LOCK_KEY = 7_210_418_321;

/**
 * Migrates `db` to the latest schema; throws with the failing migration's error.
 *
 * @example
 * await migrateToLatest(db);
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(conn);
    try {
      const migrator = new Migrator({ db: conn, provider: migrationProvider });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).map((r) => r.migrationName);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(conn);
    }
  });
}
