/**
 * The database: Postgres through a pg Pool when `databaseUrl` is set, otherwise embedded PGlite in
 * `dataDir/pglite` (the caller makes sure one process at a time opens it; PGlite and its Kysely dialect
 * are optional peer dependencies, imported only then).
 */
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

/** Options of {@link createDb}. */
export interface DbConfig {
  /** A Postgres connection string; null (with `dataDir`) for embedded PGlite. */
  databaseUrl: string | null;
  /** Where embedded PGlite keeps its files (`<dataDir>/pglite`); needed without `databaseUrl`. */
  dataDir?: string;
  /**
   * Postgres `lock_timeout` of every session, ms (default 2,500): a statement waiting longer for a
   * lock fails and its pass is retried, so no persister waits long behind another's transaction.
   */
  lockTimeoutMs?: number;
  /**
   * Postgres `idle_in_transaction_session_timeout`, ms (default 5,000): a session left idle inside a
   * transaction (its process frozen mid-pass) is ended by the server and its locks freed. Keep it
   * below the persister's lease time, so a frozen persister's transaction is gone before its
   * partitions move.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * Postgres `statement_timeout` of every session, ms (default 0: none). The persister's sessions set
   * it below the lease time: a statement that does not finish (a slow disk, a lock held elsewhere, a
   * trigger that sleeps) is cut by the server, and a persister that cannot commit steps down within
   * one lease instead of holding its partitions.
   */
  statementTimeoutMs?: number;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /**
   * node-postgres `query_timeout` of every query, ms (default 30,000; 0: none): an answer that does
   * not come (a half-open connection in an outage) fails the query instead of hanging it forever.
   */
  queryTimeoutMs?: number;
}

/** An open database. `close` ends the pool (or closes PGlite); idempotent. */
export interface PersisterDb {
  readonly db: Kysely<Database>;
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `work` (migrations, a roll-up rebuild) on a connection of its own without the query timeout:
   * on a table of millions of rows one statement may take minutes, and a timeout would fail it on
   * every attempt. Embedded PGlite has no timeout and runs it on `db`.
   *
   * @example
   * await database.maintenance(migrate);
   */
  maintenance<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Opens the database of the configuration. Connects lazily for Postgres (an unreachable Postgres is an
 * outage the persister waits out, not a start-up failure).
 *
 * @example
 * const { db, close } = await createDb({ databaseUrl: 'postgres://127.0.0.1/devicelink' });
 */
export async function createDb(config: DbConfig): Promise<PersisterDb> {
  if (config.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.maxConnections ?? 10,
      connectionTimeoutMillis: 5_000,
      // Without these a half-open connection during an outage hangs a query forever.
      keepAlive: true,
      query_timeout: config.queryTimeoutMs ?? 30_000,
      lock_timeout: config.lockTimeoutMs ?? 2_500,
      idle_in_transaction_session_timeout: config.idleInTransactionTimeoutMs ?? 5_000,
      ...(config.statementTimeoutMs ? { statement_timeout: config.statementTimeoutMs } : {}),
    });
    // An idle client dropped by the server emits 'error' on the pool; without a listener it crashes the process.
    pool.on('error', () => {});
    // A checked-out client whose connection drops (an outage mid-query) emits 'error' on itself, not on the
    // pool: without a listener that kills the process. The failed query rejects anyway.
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      async maintenance(work) {
        const own = await createDb({ ...config, queryTimeoutMs: 0, statementTimeoutMs: 0 });
        try {
          return await work(own.db);
        } finally {
          await own.close();
        }
      },
      close: once(() => db.destroy()),
    };
  }
  if (!config.dataDir) throw new TypeError('createDb needs databaseUrl, or dataDir for embedded PGlite');
  // Optional peers, loaded only here: an app on Postgres installs no PGlite (26 MB).
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([
    import('@electric-sql/pglite').catch(missingPeer),
    import('kysely-pglite-dialect').catch(missingPeer),
  ]);
  const pglite = await PGlite.create(join(config.dataDir, 'pglite'));
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    maintenance: (work) => work(db),
    close: once(async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    }),
  };
}

function missingPeer(err: unknown): never {
  throw new Error(
    'embedded PGlite (createDb without databaseUrl) needs the optional peer dependencies ' +
      '@electric-sql/pglite and kysely-pglite-dialect: install them, or set databaseUrl',
    { cause: err },
  );
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}
