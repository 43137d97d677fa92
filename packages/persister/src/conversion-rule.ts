/**
 * The conversion rule (docs/protocol.md, Conversion) in SQL: a session is converted by its
 * device's earliest link made after the session started, within the lookback, or by the link that
 * ended it (a login in the very millisecond of the session's first page view); a converted
 * session is never re-linked to a later link, but an earlier link written after it corrects it, so the
 * result does not depend on arrival order. Applied to the devices a batch touched, after its sessions and links are
 * written, so a link persisted before its session's page views still converts that session.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

const DEVICES_PER_UPDATE = 5_000;

/**
 * Converts every session of `deviceIds` whose earliest qualifying link is not the one it carries
 * (unconverted, or converted by a later link). Returns how many sessions it (re)converted.
 */
export async function applyConversionRule(
  db: Kysely<Database>,
  deviceIds: readonly string[],
  lookbackDays: number,
): Promise<number> {
  let converted = 0;
  // In slices: a pass may touch more devices than one statement takes parameters.
  for (let i = 0; i < deviceIds.length; i += DEVICES_PER_UPDATE) {
    const slice = deviceIds.slice(i, i + DEVICES_PER_UPDATE);
    const result = await sql`
      update sessions as s
      set converted_user_id = l.user_id, converted_at = l.linked_at, link_id = l.id
      from sessions as s2
      cross join lateral (
        select il.id, il.user_id, il.linked_at
        from identity_links as il
        where il.device_id = s2.device_id
          -- Strictly after: a session that began in the millisecond of a link (the first page view
          -- right after a login, then a logout) is not that link's; the link that ended the session
          -- is, whatever its time. Equal times alone converted such a session to the previous user.
          and (il.linked_at > s2.first_seen or il.session_id = s2.id)
          and il.linked_at <= s2.first_seen + make_interval(days => ${lookbackDays})
        order by il.linked_at, il.id
        limit 1
      ) as l
      where s.id = s2.id
        -- Unconverted, or converted by a later link that was written first (links reach Postgres in
        -- no fixed order: one reclaimed from a dead consumer lands after newer ones). The earliest link
        -- wins whatever the arrival order; a session is never moved to a later link.
        and (s2.converted_user_id is null or (l.linked_at, l.id) < (s2.converted_at, s2.link_id))
        and s2.device_id in (${sql.join(slice)})
    `.execute(db);
    converted += Number(result.numAffectedRows ?? 0);
  }
  return converted;
}
