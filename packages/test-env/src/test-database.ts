/**
 * Postgres databases for tests: one per file, `describe` or test, created empty and dropped after.
 * Isolation by database, never by wiping tables another test may be using.
 */
import pg from 'pg';
import { testEnv } from './test-env.js';
import { testDatabaseName } from './test-names.js';

/** A created database: its URL and how to drop it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Runs `sql` on the server's maintenance database (`DATABASE_URL` itself). */
async function onServer<T>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<any>> {
  if (!testEnv.databaseUrl) throw new Error('DATABASE_URL is not set');
  const admin = new pg.Client({ connectionString: testEnv.databaseUrl });
  await admin.connect();
  try {
    return await admin.query<T & pg.QueryResultRow>(sql, params);
  } finally {
    await admin.end();
  }
}

/** Creates an empty database named for `label` (see `testDatabaseName`) and returns its URL and a `drop`. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  if (!testEnv.databaseUrl) throw new Error('DATABASE_URL is not set');
  const name = testDatabaseName(label);
  await onServer(`CREATE DATABASE ${name}`);
  const url = new URL(testEnv.databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {}),
  };
}

/** Names of the databases matching a LIKE `pattern` (the leak check's question). */
export async function databasesLike(pattern: string): Promise<string[]> {
  const { rows } = await onServer<{ datname: string }>(
    'select datname from pg_database where datname like $1 order by datname',
    [pattern],
  );
  return rows.map((r) => r.datname);
}
