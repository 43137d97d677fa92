/**
 * What a user's erasure reaches (docs/protocol.md, Erasure), from the link log: the devices the user is
 * linked to, each marked shared when another user is linked to it too, and the ids cookie edges connect
 * to an unshared one that no other user is linked to. Fingerprint joins are never followed: they are
 * inferences, and a twin's data must not go with the user's.
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';
import { cookieConnected } from './browser-graph.js';

/** The devices and connected ids a user's erasure reaches. */
export interface UserErasureTargets {
  /** The user's linked devices, in id order; `shared`: another user is linked to it too. */
  devices: Array<{ device_id: string; shared: boolean }>;
  /** Ids cookie edges connect to an unshared device, linked to no other user (not in `devices`). */
  connected: Set<string>;
}

/** The devices and connected ids `userId`'s erasure reaches. */
export async function userErasureTargets(db: Kysely<Database>, userId: string): Promise<UserErasureTargets> {
  const { rows: devices } = await sql<{ device_id: string; shared: boolean }>`
    select l.device_id, exists (
      select 1 from identity_links as o where o.device_id = l.device_id and o.user_id <> ${userId}
    ) as shared
    from (select distinct device_id from identity_links where user_id = ${userId}) as l
    order by l.device_id
  `.execute(db);
  const connected = new Set<string>();
  for (const d of devices) {
    if (d.shared) continue;
    for (const id of await cookieConnected(db, d.device_id)) connected.add(id);
  }
  for (const d of devices) connected.delete(d.device_id);
  if (connected.size > 0) {
    const linkedElsewhere = await db
      .selectFrom('identity_links')
      .select('device_id')
      .distinct()
      .where('device_id', 'in', [...connected])
      .where('user_id', '<>', userId)
      .execute();
    for (const r of linkedElsewhere) connected.delete(r.device_id);
  }
  return { devices, connected };
}
