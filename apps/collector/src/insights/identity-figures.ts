/**
 * Identity quality (issue #9): how well devices are recognised and tied to users. Read from the identity
 * tables themselves, never from roll-ups (a revoked join changes them without a rewrite).
 *
 * Today the only edges are the `device_aliases` (a header id seen with a different cookie id). Issue #8
 * adds cookie edges and fingerprint joins (standing and revoked) in tables of their own: point
 * {@link IdentitySource} at them then; until it is, fingerprint joins and shared fingerprints are null
 * (not measured), not zero.
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';
import type { HistogramBin } from './rollup-queries.js';

/** The identity figures of the dashboard. */
export interface IdentityFigures {
  /** Devices with anything persisted. */
  devices: number;
  /** Users with at least one link. */
  users: number;
  /** Users by how many devices they are linked to by login. */
  devicesPerUser: HistogramBin[];
  /** Cookie edges: a header id seen with another cookie id. */
  cookieEdges: number;
  /** Fingerprint joins standing and revoked; null until the edges of issue #8 exist. */
  fingerprintJoins: { standing: number; revoked: number } | null;
  /** Fingerprints shared by more than one device; null until issue #8. */
  sharedFingerprints: number | null;
  /** Devices known only by ids the server made (browsers without the SDK). */
  serverMadeIds: number;
  /** Which tables the edge figures come from. */
  edgeSource: string;
}

/** Where identity figures come from; swap the implementation when the edges of issue #8 land. */
export interface IdentitySource {
  figures(db: Kysely<Database>): Promise<IdentityFigures>;
}

const DEVICES_PER_USER_BINS = [1, 2, 3, 4, 5, 10];

/** Identity figures from `devices`, `identity_links`, `sessions` and `device_aliases`. */
export const aliasIdentitySource: IdentitySource = {
  async figures(db) {
    const [devices, perUser, edges, serverMade] = await Promise.all([
      sql<{ n: string }>`select count(*)::text as n from devices`.execute(db),
      sql<{ devices: number; users: string }>`
        select least(d.n, 1000)::int as devices, count(*)::text as users
        from (select count(distinct device_id) as n from identity_links group by user_id) as d
        group by 1`.execute(db),
      sql<{ n: string }>`select count(*)::text as n from device_aliases`.execute(db),
      sql<{ n: string }>`
        select count(distinct device_id)::text as n from sessions where source = 'server'`.execute(db),
    ]);
    const bins: HistogramBin[] = DEVICES_PER_USER_BINS.map((lower, i) => ({
      lower,
      upper: DEVICES_PER_USER_BINS[i + 1] ?? null,
      count: 0,
    }));
    let users = 0;
    for (const r of perUser.rows) {
      const n = Number(r.users);
      users += n;
      const bin = [...bins].reverse().find((b) => r.devices >= b.lower);
      if (bin) bin.count += n;
    }
    return {
      devices: Number(devices.rows[0]?.n ?? 0),
      users,
      devicesPerUser: bins,
      cookieEdges: Number(edges.rows[0]?.n ?? 0),
      fingerprintJoins: null,
      sharedFingerprints: null,
      serverMadeIds: Number(serverMade.rows[0]?.n ?? 0),
      edgeSource: 'device_aliases',
    };
  },
};
