/**
 * Identity quality (the dashboard's identity panel): how well devices are recognised and tied to users. Read
 * from the identity tables themselves, never from roll-ups (a revoked join changes them without a rewrite).
 *
 * Edges are read as stored (docs/protocol.md, Edges): `device_edges` of kind `cookie` and `yield` prove
 * one browser; a `join` is inferred from a fingerprint and stands unless `fingerprint_revocations`
 * revoked it (a twin was seen). Each revocation marks a fingerprint shared.
 *
 * People only unless the reader asks for all traffic (docs/protocol.md, Bots and automation): a device
 * whose every stored session is non-human (`bot`, `automation`, `fleet`) is a program, and it, its
 * links, the edges and joins it is an end of and its revocations are left out. A device with a human
 * session, or with no session at all, counts.
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { HistogramBin } from './rollup-queries.js';
import type { TrafficScope } from './traffic-scope.js';

/** The identity figures of the dashboard. */
export interface IdentityFigures {
  /** Devices with anything persisted. */
  devices: number;
  /** Users with at least one link. */
  users: number;
  /** Users by how many devices they are linked to by login. */
  devicesPerUser: HistogramBin[];
  /**
   * Edges that prove one browser: `cookie` (a known id met another cookie) and `yield` (a fresh id gave
   * way to the cookie). The field keeps its name; the dashboard labels it "cookie and yield edges".
   */
  cookieEdges: number;
  /** Fingerprint joins standing and revoked. */
  fingerprintJoins: { standing: number; revoked: number } | null;
  /** Fingerprints found shared by live devices (twins): one per joined-to device with a revocation. */
  sharedFingerprints: number | null;
  /** Devices known only by ids the server made (browsers without the SDK). */
  serverMadeIds: number;
  /** Which tables the edge figures come from. */
  edgeSource: string;
}

/** Where identity figures come from. */
export interface IdentitySource {
  /** The figures of `scope`'s devices (`human` when absent: programs left out). */
  figures(db: Kysely<Database>, scope?: TrafficScope): Promise<IdentityFigures>;
}

const DEVICES_PER_USER_BINS = [1, 2, 3, 4, 5, 10];

/**
 * SQL: the devices every stored session of which is non-human (read through the partial index
 * `sessions_non_human`, each checked for a human session through `sessions_device_first_seen`).
 */
const NON_HUMAN_DEVICES = sql`
  with non_human as materialized (
    select distinct s.device_id from sessions as s
    where s.traffic_class <> 'human'
      and not exists (select 1 from sessions as h where h.device_id = s.device_id and h.traffic_class = 'human')
  )`;

/** The rows of the identity figures, read in parallel (`people`: programs left out). */
async function identityRows(db: Kysely<Database>, people: boolean) {
  // `with non_human …` before a query that leaves programs out, and the condition on a device column.
  const head = people ? NON_HUMAN_DEVICES : sql``;
  const person = (column: string): RawBuilder<unknown> =>
    people ? sql`and ${sql.ref(column)} not in (select device_id from non_human)` : sql``;
  const [devices, programs, perUser, edges, joins, shared, serverMade] = await Promise.all([
    // Kept by triggers on `devices`: counting 200,000 rows here took most of this request's time.
    sql<{ n: string }>`select coalesce(sum(n), 0)::text as n from device_count`.execute(db),
    people
      ? sql<{ n: string }>`${head} select count(*)::text as n from non_human`.execute(db)
      : Promise.resolve({ rows: [{ n: '0' }] }),
    sql<{ devices: number; users: string }>`
      ${head}
      select least(d.n, 1000)::int as devices, count(*)::text as users
      from (
        select count(distinct l.device_id) as n from identity_links as l
        where true ${person('l.device_id')} group by l.user_id
      ) as d
      group by 1`.execute(db),
    sql<{ n: string }>`
      ${head}
      select count(*)::text as n from device_edges as e
      where e.kind in ('cookie', 'yield') ${person('e.device_id')} ${person('e.other_id')}
        -- Across a boundary (a replacement after a reset) two people, not one browser.
        and not exists (
          select 1 from device_boundaries as bd
          where (bd.device_id = e.device_id and bd.other_id = e.other_id)
             or (bd.device_id = e.other_id and bd.other_id = e.device_id)
        )`.execute(db),
    sql<{ standing: string; revoked: string }>`
      ${head}
      select count(*) filter (where r.revoked_until is null or r.revoked_until < e.first_seen)::text as standing,
             count(*) filter (where r.revoked_until >= e.first_seen)::text as revoked
      from device_edges as e
      left join fingerprint_revocations as r on r.device_id = e.other_id
      where e.kind = 'join' ${person('e.device_id')} ${person('e.other_id')}`.execute(db),
    sql<{ n: string }>`
      ${head}
      select count(*)::text as n from fingerprint_revocations as r where true ${person('r.device_id')}`.execute(
      db,
    ),
    sql<{ n: string }>`
      select count(distinct device_id)::text as n from sessions
      where source = 'server' ${people ? sql`and traffic_class = 'human'` : sql``}`.execute(db),
  ]);
  return { devices, programs, perUser, edges, joins, shared, serverMade };
}

/** Users by how many devices they are linked to, binned, and the users counted. */
function devicesPerUser(perUser: Array<{ devices: number; users: string }>): {
  bins: HistogramBin[];
  users: number;
} {
  const bins: HistogramBin[] = DEVICES_PER_USER_BINS.map((lower, i) => ({
    lower,
    upper: DEVICES_PER_USER_BINS[i + 1] ?? null,
    count: 0,
  }));
  let users = 0;
  for (const r of perUser) {
    const n = Number(r.users);
    users += n;
    const bin = [...bins].reverse().find((b) => r.devices >= b.lower);
    if (bin) bin.count += n;
  }
  return { bins, users };
}

/** Identity figures from `devices`, `identity_links`, `sessions`, `device_edges` and the revocations. */
export const edgeIdentitySource: IdentitySource = {
  async figures(db, scope = 'human') {
    const { devices, programs, perUser, edges, joins, shared, serverMade } = await identityRows(
      db,
      scope === 'human',
    );
    const { bins, users } = devicesPerUser(perUser.rows);
    return {
      devices: Number(devices.rows[0]?.n ?? 0) - Number(programs.rows[0]?.n ?? 0),
      users,
      devicesPerUser: bins,
      cookieEdges: Number(edges.rows[0]?.n ?? 0),
      fingerprintJoins: {
        standing: Number(joins.rows[0]?.standing ?? 0),
        revoked: Number(joins.rows[0]?.revoked ?? 0),
      },
      sharedFingerprints: Number(shared.rows[0]?.n ?? 0),
      serverMadeIds: Number(serverMade.rows[0]?.n ?? 0),
      edgeSource: 'device_edges',
    };
  },
};
