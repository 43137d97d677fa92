/**
 * Runs the migrations to the latest version. Processes starting together are serialized by kysely's
 * Migrator itself (its lock table, taken in the migration transaction), so only one migrates and the
 * others then find nothing to do.
 */
import { type Kysely, Migrator } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import { rebuildRollupsIfNeeded } from './rollup-rebuild.js';
import type { Database } from './schema.js';

/**
 * Migrates `db` to the latest schema and resolves with the names of the migrations it applied; throws
 * with the failing migration's error.
 *
 * @example
 * const { db } = await createDb({ databaseUrl: 'postgres://127.0.0.1/devicelink' });
 * await migrate(db);
 */
export async function migrate(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  // Rows stored before the roll-ups existed are counted once, so the figures include them too.
  await rebuildRollupsIfNeeded(db);
  return (results ?? []).map((r) => r.migrationName);
}
