/**
 * The conversion rule (docs/protocol.md, Conversion) in SQL: a session is converted by the earliest
 * link, made after the session started and within the lookback, of its own device or of an id tied
 * to it as the same browser (a `cookie` or `yield` edge, either way, with no boundary between the two:
 * never a fingerprint `join`), or by the link that ended it (a login in the very millisecond of the
 * session's first page view); a converted session is never re-linked to a later link, but an earlier
 * link written after it corrects it, so the result does not depend on arrival order. Applied to the
 * devices a batch touched and the ids tied to them, after its sessions, links and edges are written,
 * so a link persisted before its session's page views still converts that session.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

const DEVICES_PER_UPDATE = 5_000;

/** What a pass of the rule did. */
export interface ConversionResult {
  /** Sessions (re)converted. */
  converted: number;
  /** The devices of those sessions (tied ids among them), for the roll-ups to reconcile. */
  deviceIds: Set<string>;
}

/**
 * The ids tied to `device` as the same browser: the other end of each of its cookie and yield edges,
 * unless a boundary (a replacement) stands between the two, in either direction.
 */
const tiedTo = (device: ReturnType<typeof sql.ref>) => sql`
  select case when e.device_id = ${device} then e.other_id else e.device_id end
  from device_edges as e
  where (e.device_id = ${device} or e.other_id = ${device})
    and e.kind in ('cookie', 'yield')
    and not exists (
      select 1 from device_boundaries as b
      where (b.device_id = e.device_id and b.other_id = e.other_id)
         or (b.device_id = e.other_id and b.other_id = e.device_id)
    )`;

/**
 * Converts every session of `deviceIds`, and of the ids tied to them, whose earliest qualifying link
 * is not the one it carries (unconverted, or converted by a later link).
 */
export async function applyConversionRule(
  db: Kysely<Database>,
  deviceIds: readonly string[],
  lookbackDays: number,
): Promise<ConversionResult> {
  const out: ConversionResult = { converted: 0, deviceIds: new Set() };
  // In slices: a pass may touch more devices than one statement takes parameters.
  for (let i = 0; i < deviceIds.length; i += DEVICES_PER_UPDATE) {
    const slice = sql.join(deviceIds.slice(i, i + DEVICES_PER_UPDATE));
    const result = await sql<{ device_id: string }>`
      with devices_of_pass(id) as (
        select d.id from unnest(array[${slice}]::text[]) as d(id)
        union
        select t.id from unnest(array[${slice}]::text[]) as d(id)
        cross join lateral (${tiedTo(sql.ref('d.id'))}) as t(id)
      )
      update sessions as s
      set converted_user_id = l.user_id, converted_at = l.linked_at, link_id = l.id
      from sessions as s2
      cross join lateral (
        select il.id, il.user_id, il.linked_at
        from identity_links as il
        where (il.device_id = s2.device_id or il.device_id in (${tiedTo(sql.ref('s2.device_id'))}))
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
        and s2.device_id in (select id from devices_of_pass)
      returning s.device_id
    `.execute(db);
    out.converted += result.rows.length;
    for (const r of result.rows) out.deviceIds.add(r.device_id);
  }
  return out;
}
