/**
 * What the collector reports about the run, read from Postgres (the source of every report): where
 * each page view landed, its session and conversion, the logins, and the edges with their
 * revocations, resolved to one canonical id per browser by the protocol's rule.
 */
import pg from 'pg';

/** A persisted page view. */
export interface StoredPageView {
  eventId: string;
  deviceId: string | null;
  sessionId: string | null;
}

/** A persisted session. */
export interface StoredSession {
  id: string;
  deviceId: string;
  source: string;
  firstSeen: number;
  convertedUserId: string | null;
}

/** A login link. */
export interface StoredLink {
  deviceId: string;
  userId: string;
  linkedAt: number;
}

/** An edge between two raw ids (`device_edges`). */
export interface Edge {
  kind: string;
  from: string;
  to: string;
  /** A fingerprint join (inferred), as opposed to an observed edge. */
  inferred: boolean;
  revoked: boolean;
}

/** The collector's view of the run. */
export interface CollectorView {
  pageViews: Map<string, StoredPageView>;
  sessions: Map<string, StoredSession>;
  links: StoredLink[];
  edges: Edge[];
  /** The canonical id a raw id resolves to in reports (the admin detail's `browser.canonicalId`). */
  canonical: Map<string, string>;
  /** Raw ids whose admin canonical id differs from the protocol's rule applied here to Postgres. */
  disagreements: string[];
}

/**
 * Waits until Postgres holds every one of `eventIds` (the persister drained the queue). Page views are
 * keyed by their subject and event id: `deviceIds` (every id the run used) lets the key serve the read.
 */
export async function waitPersisted(
  databaseUrl: string,
  eventIds: string[],
  deviceIds: string[],
  timeoutMs = 60_000,
): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query(
        'select count(*)::int as n from page_views where device_id = any($2) and event_id = any($1)',
        [eventIds, deviceIds],
      );
      const n = rows[0].n as number;
      if (n >= eventIds.length || Date.now() > deadline) return n;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await client.end();
  }
}

/** Union-find over raw ids. */
function groups() {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  return {
    find,
    union(a: string, b: string) {
      const [ra, rb] = [find(a), find(b)];
      if (ra !== rb) parent.set(ra, rb);
    },
  };
}

/**
 * Resolves raw ids the way docs/protocol.md (Edges) says reports do: edges as stored (withdrawn ones
 * are deleted), a fingerprint join unless a revocation of joins to its target came at or after it;
 * one canonical id per browser, the earliest seen.
 */
function resolveEdges(ids: string[], edges: Edge[], firstSeen: Map<string, number>): Map<string, string> {
  const g = groups();
  for (const e of edges) if (!e.revoked) g.union(e.from, e.to);
  const members = new Map<string, string[]>();
  for (const id of new Set([...ids, ...edges.flatMap((e) => [e.from, e.to])])) {
    members.set(g.find(id), [...(members.get(g.find(id)) ?? []), id]);
  }
  const canonical = new Map<string, string>();
  for (const list of members.values()) {
    const first = [...list].sort(
      (a, b) =>
        (firstSeen.get(a) ?? Number.POSITIVE_INFINITY) - (firstSeen.get(b) ?? Number.POSITIVE_INFINITY),
    )[0]!;
    for (const id of list) canonical.set(id, first);
  }
  return canonical;
}

/** The admin detail's canonical id of `deviceId` (`browser.canonicalId`), or null when it has none. */
async function adminCanonical(
  collectorUrl: string,
  adminToken: string,
  deviceId: string,
): Promise<string | null> {
  const res = await fetch(`${collectorUrl}/v1/admin/devices/${encodeURIComponent(deviceId)}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (!res.ok) return null;
  const detail = (await res.json()) as { browser?: { canonicalId?: string } };
  return detail.browser?.canonicalId ?? null;
}

/**
 * Reads the view of the raw ids `deviceIds` and the page views `eventIds`: the canonical id of each
 * raw id is the admin device detail's (what an operator's report resolves it to), checked against the
 * protocol's rule applied here to the edges in Postgres.
 */
export async function readCollectorView(options: {
  databaseUrl: string;
  collectorUrl: string;
  adminToken: string;
  deviceIds: string[];
  eventIds: string[];
}): Promise<CollectorView> {
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    const pvs = await client.query(
      'select event_id, device_id, session_id from page_views where device_id = any($2) and event_id = any($1)',
      [options.eventIds, options.deviceIds],
    );
    const pageViews = new Map<string, StoredPageView>(
      pvs.rows.map((r) => [
        r.event_id,
        { eventId: r.event_id, deviceId: r.device_id, sessionId: r.session_id },
      ]),
    );
    const sessionIds = [...new Set(pvs.rows.map((r) => r.session_id).filter(Boolean))];
    const ss = await client.query(
      'select id, device_id, source, first_seen, converted_user_id from sessions where id = any($1)',
      [sessionIds],
    );
    const sessions = new Map<string, StoredSession>(
      ss.rows.map((r) => [
        r.id,
        {
          id: r.id,
          deviceId: r.device_id,
          source: r.source,
          firstSeen: new Date(r.first_seen).getTime(),
          convertedUserId: r.converted_user_id,
        },
      ]),
    );
    const allIds = [...new Set([...options.deviceIds, ...pvs.rows.map((r) => r.device_id).filter(Boolean)])];
    const ls = await client.query(
      'select device_id, user_id, linked_at from identity_links where device_id = any($1)',
      [allIds],
    );
    const links = ls.rows.map((r) => ({
      deviceId: r.device_id,
      userId: r.user_id,
      linkedAt: new Date(r.linked_at).getTime(),
    }));
    // Every edge reachable from the run's ids (the run's ids only meet each other).
    const es = await client.query(
      `select e.device_id, e.other_id, e.kind, e.first_seen, r.revoked_until
       from device_edges e left join fingerprint_revocations r on r.device_id = e.other_id
       where e.device_id = any($1) or e.other_id = any($1)`,
      [allIds],
    );
    const edges: Edge[] = es.rows.map((r) => ({
      kind: r.kind,
      from: r.device_id,
      to: r.other_id,
      inferred: r.kind === 'join',
      revoked:
        r.kind === 'join' && r.revoked_until !== null && new Date(r.revoked_until) >= new Date(r.first_seen),
    }));
    const ds = await client.query('select device_id, first_seen from devices where device_id = any($1)', [
      allIds,
    ]);
    const firstSeen = new Map<string, number>(
      ds.rows.map((r) => [r.device_id, new Date(r.first_seen).getTime()]),
    );
    const ruled = resolveEdges(allIds, edges, firstSeen);
    const canonical = new Map<string, string>();
    const disagreements: string[] = [];
    for (const id of allIds) {
      const admin = await adminCanonical(options.collectorUrl, options.adminToken, id);
      canonical.set(id, admin ?? ruled.get(id) ?? id);
      // Two ids of one browser seen at the same millisecond: either may be canonical; compare groups.
      if (admin !== null && ruled.get(admin) !== ruled.get(id)) disagreements.push(id);
    }
    return { pageViews, sessions, links, edges, canonical, disagreements };
  } finally {
    await client.end();
  }
}
