/**
 * Dead letters made usable (apps/collector/README.md, Dead letters): the queue entries Postgres refused on
 * their own (kept in `dead_letters` by the persister, with the error) are listed page by page, and replayed
 * once their cause is fixed. A replay writes the entry as the persister would (same writer, same erasure
 * tombstones), so it lands once by its subject and event id: a page view that already landed (delivered
 * again, or replayed before) is not doubled and does not count twice towards its session.
 */
import type { QueueEntry, QueueRecord } from '@devicelink/protocol';
import type { Kysely } from 'kysely';
import { writePass } from './batch-writer.js';
import type { Database } from './schema.js';
import { isDataError } from './write-failures.js';

/** Where a dead letter was in the queue: its partition and entry id, the table's key. */
export interface DeadLetterRef {
  partition: number;
  entryId: string;
}

/** A dead letter as listed. */
export interface DeadLetter extends DeadLetterRef {
  /** Why Postgres refused it (the database error's message). */
  error: string;
  failedAt: Date;
  /** The queue record, or its raw text when it does not parse. */
  record: QueueRecord | string;
}

/** One page of dead letters and where the next starts (null: none left). */
export interface DeadLetterPage {
  deadLetters: DeadLetter[];
  next: DeadLetterRef | null;
}

/** What a replay did. */
export interface ReplayResult {
  /** Written (or found already written) and removed from `dead_letters`. */
  replayed: DeadLetterRef[];
  /** Refused again by Postgres: kept, with the new error and time. */
  failed: Array<DeadLetterRef & { error: string }>;
}

const parse = (text: string): QueueRecord | string => {
  try {
    return JSON.parse(text) as QueueRecord;
  } catch {
    return text;
  }
};

/**
 * Dead letters in queue order (partition, then entry id), `limit` at a time, after `after`.
 *
 * @example
 * let page = await listDeadLetters(db, { limit: 50 });
 * while (page.next) page = await listDeadLetters(db, { limit: 50, after: page.next });
 */
export async function listDeadLetters(
  db: Kysely<Database>,
  options: { limit: number; after?: DeadLetterRef | null },
): Promise<DeadLetterPage> {
  let query = db
    .selectFrom('dead_letters')
    .selectAll()
    .orderBy('partition')
    .orderBy('entry_id')
    .limit(options.limit + 1);
  const { after } = options;
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('partition', '>', after.partition),
        eb.and([eb('partition', '=', after.partition), eb('entry_id', '>', after.entryId)]),
      ]),
    );
  }
  const rows = await query.execute();
  const page = rows.slice(0, options.limit).map(
    (r): DeadLetter => ({
      partition: r.partition,
      entryId: r.entry_id,
      error: r.error,
      failedAt: r.failed_at,
      record: parse(r.record),
    }),
  );
  const last = page.at(-1);
  return {
    deadLetters: page,
    next: rows.length > options.limit && last ? { partition: last.partition, entryId: last.entryId } : null,
  };
}

/**
 * Replays the dead letters named by `refs` (those that exist), or with `refs` null the first `limit`
 * in queue order, each in its own transaction as the persister writes an entry alone. One that
 * Postgres refuses again stays, with the new error; a connection error is thrown (what was replayed
 * before it is already removed, and replaying again is harmless).
 */
export async function replayDeadLetters(
  db: Kysely<Database>,
  options: { refs: readonly DeadLetterRef[] | null; limit: number; lookbackDays?: number },
): Promise<ReplayResult> {
  const lookbackDays = options.lookbackDays ?? 30;
  let rows: Array<{ partition: number; entry_id: string; record: string }>;
  if (options.refs === null) {
    rows = await db
      .selectFrom('dead_letters')
      .select(['partition', 'entry_id', 'record'])
      .orderBy('partition')
      .orderBy('entry_id')
      .limit(options.limit)
      .execute();
  } else {
    rows = [];
    for (const ref of options.refs.slice(0, options.limit)) {
      const row = await db
        .selectFrom('dead_letters')
        .select(['partition', 'entry_id', 'record'])
        .where('partition', '=', ref.partition)
        .where('entry_id', '=', ref.entryId)
        .executeTakeFirst();
      if (row) rows.push(row);
    }
  }
  const result: ReplayResult = { replayed: [], failed: [] };
  for (const row of rows) {
    const ref = { partition: row.partition, entryId: row.entry_id };
    try {
      const record = JSON.parse(row.record) as QueueRecord;
      const entry: QueueEntry = { partition: row.partition, id: row.entry_id, record };
      await writePass(db, [{ partition: row.partition, entries: [entry] }], lookbackDays);
    } catch (err) {
      if (!(isDataError(err) || err instanceof SyntaxError)) throw err;
      const error = (err instanceof Error ? err.message : String(err)).replaceAll('\u0000', '');
      await db
        .updateTable('dead_letters')
        .set({ error, failed_at: new Date() })
        .where('partition', '=', row.partition)
        .where('entry_id', '=', row.entry_id)
        .execute();
      result.failed.push({ ...ref, error });
      continue;
    }
    await db
      .deleteFrom('dead_letters')
      .where('partition', '=', row.partition)
      .where('entry_id', '=', row.entry_id)
      .execute();
    result.replayed.push(ref);
  }
  return result;
}
