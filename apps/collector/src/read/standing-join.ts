/** Whether a device has a standing fingerprint join (docs/protocol.md, Edges): the debug session route's. */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';

/** True when `deviceId` has a fingerprint join that no revocation came after. */
export async function standingJoin(db: Kysely<Database>, deviceId: string): Promise<boolean> {
  const row = await db
    .selectFrom('device_edges as e')
    .select('e.other_id')
    .where('e.device_id', '=', deviceId)
    .where('e.kind', '=', 'join')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('fingerprint_revocations as r')
            .select(sql`1`.as('one'))
            .whereRef('r.device_id', '=', 'e.other_id')
            .whereRef('r.revoked_until', '>=', 'e.first_seen'),
        ),
      ),
    )
    .executeTakeFirst();
  return row !== undefined;
}
