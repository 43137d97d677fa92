/** How many dead letters are left (the answer of a replay, beside what it replayed). */
import type { Database } from '@devicelink/persister';
import type { Kysely } from 'kysely';

/** Rows in `dead_letters`. */
export async function deadLetterCount(db: Kysely<Database>): Promise<number> {
  const left = await db
    .selectFrom('dead_letters')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(left.n);
}
