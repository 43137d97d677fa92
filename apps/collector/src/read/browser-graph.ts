/**
 * Edges resolved when read (docs/protocol.md, Edges): the ids of one browser are the ids connected
 * by cookie and yield edges and by fingerprint joins that stand (not revoked), resolved to one
 * canonical id, the earliest seen. A device reached only through a join is marked inferred.
 * Erasure follows a narrower set: links by login and cookie edges, never a join
 * ({@link cookieConnected}).
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';

/** One id of a browser. */
export interface BrowserMember {
  deviceId: string;
  /** Reached only through a fingerprint join (a revocable inference, not proof). */
  inferred: boolean;
  firstSeen: Date | null;
}

/** The browser of a device as reports see it. */
export interface Browser {
  /** The earliest seen id of the browser (ties: the smallest id). */
  canonicalId: string;
  devices: BrowserMember[];
}

/** Most ids a report follows from one device (a forged edge storm cannot make a report unbounded). */
const MAX_BROWSER_IDS = 200;

interface Neighbour {
  id: string;
  join: boolean;
}

/** The neighbours of `ids` through standing edges (`joins`: fingerprint joins too). */
async function neighbours(
  db: Kysely<Database>,
  ids: string[],
  joins: boolean,
): Promise<Map<string, Neighbour[]>> {
  const { rows } = await sql<{ device_id: string; other_id: string; kind: string }>`
    select e.device_id, e.other_id, e.kind
    from device_edges as e
    where (e.device_id in (${sql.join(ids)}) or e.other_id in (${sql.join(ids)}))
      -- A boundary (a replacement after a reset) says the two ids are two people: never one browser.
      and not exists (
        select 1 from device_boundaries as bd
        where (bd.device_id = e.device_id and bd.other_id = e.other_id)
           or (bd.device_id = e.other_id and bd.other_id = e.device_id)
      )
      and (
        e.kind <> 'join' or (${joins} and not exists (
          select 1 from fingerprint_revocations as r
          where r.device_id = e.other_id and r.revoked_until >= e.first_seen
        ))
      )
  `.execute(db);
  const out = new Map<string, Neighbour[]>();
  const add = (from: string, to: string, join: boolean) => {
    const list = out.get(from) ?? [];
    list.push({ id: to, join });
    out.set(from, list);
  };
  for (const r of rows) {
    add(r.device_id, r.other_id, r.kind === 'join');
    add(r.other_id, r.device_id, r.kind === 'join');
  }
  return out;
}

/** The ids reachable from `start`, each with whether only joins reach it. Breadth first, bounded. */
async function reach(db: Kysely<Database>, start: string, joins: boolean): Promise<Map<string, boolean>> {
  const inferred = new Map<string, boolean>([[start, false]]);
  let frontier = [start];
  while (frontier.length > 0 && inferred.size < MAX_BROWSER_IDS) {
    const next = new Set<string>();
    const edges = await neighbours(db, frontier, joins);
    for (const from of frontier) {
      for (const n of edges.get(from) ?? []) {
        const viaJoin = (inferred.get(from) ?? false) || n.join;
        const known = inferred.get(n.id);
        // New, or now reached through proof where only an inference reached it before.
        if (known === undefined || (known && !viaJoin)) {
          if (known === undefined && inferred.size >= MAX_BROWSER_IDS) break;
          inferred.set(n.id, viaJoin);
          next.add(n.id);
        }
      }
    }
    frontier = [...next];
  }
  return inferred;
}

/**
 * The browser of `deviceId`: cookie and yield edges and standing fingerprint joins, resolved to the
 * earliest id.
 *
 * @example
 * const { canonicalId, devices } = await browserOf(db, deviceId);
 */
export async function browserOf(db: Kysely<Database>, deviceId: string): Promise<Browser> {
  const members = await reach(db, deviceId, true);
  const seen = await db
    .selectFrom('devices')
    .select(['device_id', 'first_seen'])
    .where('device_id', 'in', [...members.keys()])
    .execute();
  const firstSeen = new Map(seen.map((r) => [r.device_id, r.first_seen]));
  const devices = [...members].map(([id, inferred]) => ({
    deviceId: id,
    inferred,
    firstSeen: firstSeen.get(id) ?? null,
  }));
  const time = (m: BrowserMember) => m.firstSeen?.getTime() ?? Number.POSITIVE_INFINITY;
  devices.sort((a, b) => time(a) - time(b) || (a.deviceId < b.deviceId ? -1 : 1));
  return { canonicalId: devices[0]?.deviceId ?? deviceId, devices };
}

/**
 * The ids connected to `deviceId` by cookie and yield edges only (never a fingerprint join): what
 * erasure follows besides links by login.
 */
export async function cookieConnected(db: Kysely<Database>, deviceId: string): Promise<string[]> {
  return [...(await reach(db, deviceId, false)).keys()];
}
