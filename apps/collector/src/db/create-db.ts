/**
 * The database: Postgres through a pg Pool when `DATABASE_URL` is set, otherwise embedded PGlite in
 * `DATA_DIR/pglite` (the caller holds the data-dir lock).
 */
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './schema.js';

/** What `createDb` needs of the configuration. */
export interface DbConfig {
  databaseUrl: string | null;
  dataDir: string;
}

/** An open database. `close` ends the pool (or closes PGlite); idempotent. */
export interface CollectorDb {
  readonly db: Kysely<Database>;
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/**
 * Opens the database of the configuration. Connects lazily for Postgres (an unreachable Postgres is an
 * outage the persister waits out, not a start-up failure).
 *
 * @example
 * const { db, close } = await createDb(config);
 */
export async function createDb(config: DbConfig): Promise<CollectorDb> {
  if (config.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: 10,
      connectionTimeoutMillis: 5_000,
      // Without these a half-open connection during an outage hangs a query forever.
      keepAlive: true,
      query_timeout: 30_000,
    });
    // An idle client dropped by the server emits 'error' on the pool; without a listener it crashes the process.
    pool.on('error', () => {});
    // A checked-out client whose connection drops (an outage mid-query) emits 'error' on itself, not on the
    // pool: without a listener that kills the process. The failed query rejects anyway.
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', close: once(() => db.destroy()) };
  }
  const pglite = await PGlite.create(join(config.dataDir, 'pglite'));
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    close: once(async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    }),
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}
