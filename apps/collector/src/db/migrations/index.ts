/**
 * Every migration, listed statically: a bundled build has no folder to scan, so no
 * FileMigrationProvider. Add new migrations here under their file's name; never rename one.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as initialSchema from './2026-01-15T00-00-00-initial-schema.js';

const migrations: Record<string, Migration> = {
  '2026-01-15T00-00-00-initial-schema': initialSchema,
};

/** The static migration provider of the collector. */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
