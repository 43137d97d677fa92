/**
 * The identity links of a chunk (a login: docs/protocol.md, Conversion). Each carries a deterministic
 * id (`link-id.ts`), so a link delivered again is not inserted twice.
 */
import type { LinkRecord } from '@devicelink/protocol';
import type { Transaction } from 'kysely';
import { slices } from './insert-slices.js';
import { linkId } from './link-id.js';
import type { Database } from './schema.js';

/** Inserts the links not yet stored; answers how many were. */
export async function writeLinks(trx: Transaction<Database>, links: readonly LinkRecord[]): Promise<number> {
  let inserted = 0;
  for (const rows of slices(links)) {
    const done = await trx
      .insertInto('identity_links')
      .values(
        rows.map((l) => ({
          id: linkId(l.deviceId, l.userId, l.ts),
          device_id: l.deviceId,
          user_id: l.userId,
          linked_at: new Date(l.ts),
          session_id: l.sessionId,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    inserted += done.length;
  }
  return inserted;
}
