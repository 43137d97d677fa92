/**
 * How benchmark `bots` judges a run: by what the collector stored. Each label's page views are looked
 * up by their event ids in Postgres with their stored class and their session's; the dashboard's read
 * API (with the filter on, its default) is then compared figure by figure with the same figures
 * recomputed from the stored page views and sessions and their stored class: the roll-up series,
 * conversion, paths and top pages against `recountRollups` (the persister's definitions applied to the
 * rows, never to the roll-ups), the stats, the excluded-traffic panel and the identity figures against
 * SQL of their own over the rows.
 */
import { type Database, recountRollups } from '@devicelink/persister';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Group, Ledger } from './traffic-mix.js';

/** What was stored of one label's page views. */
export interface GroupFigures {
  /** Page views the collector accepted (202). */
  sent: number;
  /** Of those, rows in `page_views`. */
  stored: number;
  /** Stored page views whose class is not `human`. */
  nonHumanViews: number;
  /** Their sessions, and how many of them are not `human`. */
  sessions: number;
  nonHumanSessions: number;
  /** Sessions converted (a login), and how many of those are not `human`. */
  converted: number;
  convertedNonHuman: number;
  /** Stored page views by `class reason`. */
  byReason: Record<string, number>;
}

/** Waits until every accepted page view of the run is a row (or `timeoutMs` passed); answers the rows found. */
export async function waitStored(
  client: pg.Client,
  eventIds: readonly string[],
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let found = 0;
  for (;;) {
    const r = await client.query<{ n: string }>(
      'select count(*)::text as n from page_views where event_id = any($1::uuid[])',
      [eventIds],
    );
    found = Number(r.rows[0]?.n ?? 0);
    if (found >= eventIds.length || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until `logins` identity links are stored (the persister applies the conversion rule with them). */
export async function waitLinks(client: pg.Client, logins: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await client.query<{ n: string }>('select count(*)::text as n from identity_links');
    const n = Number(r.rows[0]?.n ?? 0);
    if (n >= logins || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The stored classes of each label's page views and sessions. */
export async function groupFigures(client: pg.Client, ledger: Ledger): Promise<Record<Group, GroupFigures>> {
  const out = {} as Record<Group, GroupFigures>;
  for (const [group, sent] of Object.entries(ledger) as [Group, Ledger[Group]][]) {
    const rows = await client.query<{
      pv_class: string;
      pv_reason: string | null;
      session_id: string | null;
      s_class: string | null;
      converted: boolean | null;
    }>(
      `select pv.traffic_class as pv_class, pv.traffic_reason as pv_reason, pv.session_id,
         s.traffic_class as s_class, s.converted_user_id is not null as converted
       from page_views as pv left join sessions as s on s.id = pv.session_id
       where pv.event_id = any($1::uuid[])`,
      [sent.eventIds],
    );
    const sessions = new Map<string, { cls: string; converted: boolean }>();
    const byReason: Record<string, number> = {};
    for (const r of rows.rows) {
      if (r.session_id)
        sessions.set(r.session_id, { cls: r.s_class ?? 'human', converted: r.converted === true });
      const reason = `${r.pv_class}${r.pv_reason ? ` ${r.pv_reason.replace(/^fleet:.*/, 'fleet:…')}` : ''}`;
      byReason[reason] = (byReason[reason] ?? 0) + 1;
    }
    const all = [...sessions.values()];
    out[group] = {
      sent: sent.eventIds.length,
      stored: rows.rows.length,
      nonHumanViews: rows.rows.filter((r) => r.pv_class !== 'human').length,
      sessions: all.length,
      nonHumanSessions: all.filter((s) => s.cls !== 'human').length,
      converted: all.filter((s) => s.converted).length,
      convertedNonHuman: all.filter((s) => s.converted && s.cls !== 'human').length,
      byReason,
    };
  }
  return out;
}

/** One dashboard figure compared with its recomputation. */
interface Comparison {
  figure: string;
  dashboard: number | null;
  recomputed: number | null;
}

/** The comparison of the dashboard with the stored rows. */
export interface DashboardCheck {
  /** Figures compared. */
  compared: number;
  /** Those that differ (at most 20 listed). */
  mismatches: Comparison[];
  /** Conversions: what the dashboard counts against converted sessions stored, human and not. */
  conversions: {
    dashboard: number;
    storedHuman: number;
    storedNonHuman: number;
    /** Dashboard conversions beyond the stored human ones: counted from non-human sessions. */
    countedFromNonHuman: number;
  };
}

type Json = Record<string, any>;

/**
 * Compares every figure of the dashboard's read API for `[from, to)` (whole UTC hours) with the same
 * figure recomputed from the rows, people only.
 */
export async function checkDashboard(
  db: Kysely<Database>,
  client: pg.Client,
  collectorUrl: string,
  adminToken: string,
  from: Date,
  to: Date,
): Promise<DashboardCheck> {
  const get = async (path: string, query: Record<string, string | number> = {}): Promise<Json> => {
    const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), ...query } as never);
    const res = await fetch(`${collectorUrl}${path}?${q}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Json;
  };
  const out: Comparison[] = [];
  const compare = (figure: string, dashboard: unknown, recomputed: unknown) =>
    out.push({
      figure,
      dashboard: dashboard === null || dashboard === undefined ? null : Number(dashboard),
      recomputed: recomputed === null || recomputed === undefined ? null : Number(recomputed),
    });

  // The roll-up families, recounted from the rows: `metric|hour|key` for people (a class suffix otherwise).
  const recount = await recountRollups(db);
  const human = new Map<string, Map<string, number>>(); // metric -> key -> n over the range
  const hourly = new Map<string, number>(); // metric|hour -> n
  for (const [k, n] of recount) {
    const parts = k.split('|');
    if (parts.length !== 3) continue;
    const [metric, hour, key] = parts as [string, string, string];
    const t = Date.parse(hour);
    if (t < from.getTime() || t >= to.getTime()) continue;
    if (!human.has(metric)) human.set(metric, new Map());
    human.get(metric)!.set(key, (human.get(metric)!.get(key) ?? 0) + n);
    hourly.set(
      `${metric}|${new Date(t).toISOString()}`,
      (hourly.get(`${metric}|${new Date(t).toISOString()}`) ?? 0) + n,
    );
  }
  const sum = (metric: string, key = '') => human.get(metric)?.get(key) ?? 0;

  const series = await get('/v1/admin/insights/timeseries', { bucket: 'hour', tz: 'UTC' });
  for (const p of series.points as Json[]) {
    const at = new Date(p.start).toISOString();
    for (const [field, metric] of [
      ['pageViewsAnonymous', 'pv_anon'],
      ['pageViewsSignedIn', 'pv_user'],
      ['sessions', 'sessions'],
      ['convertedSessions', 'converted'],
    ] as const) {
      compare(`timeseries ${at} ${field}`, p[field], hourly.get(`${metric}|${at}`) ?? 0);
    }
  }
  const conversion = await get('/v1/admin/insights/conversion');
  compare('conversion sessionsStarted', conversion.sessionsStarted, sum('sessions'));
  compare('conversion convertedSessions', conversion.convertedSessions, sum('converted'));
  for (const [field, metric] of [
    ['timeToConvert', 'time_to_convert'],
    ['viewsBeforeConversion', 'views_before_conversion'],
  ] as const) {
    for (const bin of conversion[field] as Json[]) {
      compare(`conversion ${field} [${bin.lower}`, bin.count, sum(metric, String(bin.lower)));
    }
  }
  const keyed = (label: string, rows: Json[], field: string, metric: string) => {
    const shown = new Map(rows.map((r) => [r.key as string, r[field] as number]));
    for (const key of new Set([...shown.keys(), ...(human.get(metric)?.keys() ?? [])])) {
      const recomputed = sum(metric, key);
      if (recomputed === 0 && !shown.has(key)) continue;
      compare(`${label} ${key || '(none)'}`, shown.get(key) ?? 0, recomputed);
    }
  };
  const paths = await get('/v1/admin/insights/paths', { limit: 100 });
  keyed('entry page sessions', paths.entryPages, 'sessions', 'entry_page');
  keyed('entry page converted', paths.entryPages, 'convertedSessions', 'entry_page_converted');
  keyed('entry referrer sessions', paths.entryReferrers, 'sessions', 'entry_referrer');
  keyed('entry referrer converted', paths.entryReferrers, 'convertedSessions', 'entry_referrer_converted');
  const top = await get('/v1/admin/insights/top', { limit: 100 });
  keyed('top page', top.pages, 'pageViews', 'page');
  keyed('top referrer', top.referrers, 'pageViews', 'referrer');

  // The stats, from the sessions of the range and their class.
  const stats = await get('/v1/admin/stats');
  const sessions = (
    await client.query<{ started: string; converted: string; devices: string }>(
      `select count(*)::text as started, count(converted_user_id)::text as converted,
         count(distinct device_id)::text as devices
       from sessions where first_seen >= $1 and first_seen < $2 and traffic_class = 'human'`,
      [from, to],
    )
  ).rows[0]!;
  compare('stats sessionsStarted', stats.sessionsStarted, sessions.started);
  compare('stats convertedSessions', stats.convertedSessions, sessions.converted);
  compare('stats devices', stats.devices, sessions.devices);

  // The excluded panel, from the page views of the range's non-human sessions.
  const excluded = await get('/v1/admin/insights/excluded', { limit: 100 });
  const byClass = await client.query<{ cls: string; sessions: string; views: string }>(
    `select s.traffic_class as cls, count(distinct s.id)::text as sessions, count(pv.event_id)::text as views
     from sessions as s left join page_views as pv on pv.session_id = s.id
     where s.first_seen >= $1 and s.first_seen < $2 and s.traffic_class <> 'human'
     group by 1`,
    [from, to],
  );
  const shownClass = new Map((excluded.byClass as Json[]).map((c) => [c.trafficClass as string, c]));
  for (const r of byClass.rows) {
    compare(`excluded ${r.cls} sessions`, shownClass.get(r.cls)?.sessions ?? 0, r.sessions);
    compare(`excluded ${r.cls} page views`, shownClass.get(r.cls)?.pageViews ?? 0, r.views);
  }
  for (const cls of shownClass.keys()) {
    if (!byClass.rows.some((r) => r.cls === cls))
      compare(`excluded ${cls} sessions`, shownClass.get(cls)!.sessions, 0);
  }
  const agents = await client.query<{ ua: string | null; cls: string; n: string }>(
    `select user_agent as ua, traffic_class as cls, count(*)::text as n from sessions
     where first_seen >= $1 and first_seen < $2 and traffic_class <> 'human' group by 1, 2`,
    [from, to],
  );
  const agentCount = new Map(agents.rows.map((r) => [`${r.ua}|${r.cls}`, Number(r.n)]));
  for (const a of excluded.topUserAgents as Json[]) {
    compare(
      `excluded agent ${String(a.userAgent).slice(0, 40)} ${a.trafficClass}`,
      a.sessions,
      agentCount.get(`${a.userAgent}|${a.trafficClass}`) ?? 0,
    );
  }

  // Identity: devices with a human session or none, and the users linked to them.
  const identity = (await get('/v1/admin/insights/identity')) as Json;
  const people = (
    await client.query<{ devices: string; users: string }>(
      `with person as (
         select d.device_id from devices as d
         where exists (select 1 from sessions as s where s.device_id = d.device_id and s.traffic_class = 'human')
            or not exists (select 1 from sessions as s where s.device_id = d.device_id)
       )
       select (select count(*) from person)::text as devices,
         (select count(distinct l.user_id) from identity_links as l join person as p on p.device_id = l.device_id)::text as users`,
    )
  ).rows[0]!;
  compare('identity devices', identity.devices, people.devices);
  compare('identity users', identity.users, people.users);

  // Conversions: the dashboard's count against the stored converted sessions of each class.
  const stored = (
    await client.query<{ human: string; other: string }>(
      `select count(*) filter (where traffic_class = 'human')::text as human,
         count(*) filter (where traffic_class <> 'human')::text as other
       from sessions where first_seen >= $1 and first_seen < $2 and converted_user_id is not null`,
      [from, to],
    )
  ).rows[0]!;
  const dashboardConverted = Math.max(
    Number(conversion.convertedSessions),
    Number(stats.convertedSessions),
    (series.points as Json[]).reduce((n, p) => n + Number(p.convertedSessions), 0),
  );
  const mismatches = out.filter((c) => c.dashboard !== c.recomputed);
  return {
    compared: out.length,
    mismatches: mismatches.slice(0, 20),
    conversions: {
      dashboard: dashboardConverted,
      storedHuman: Number(stored.human),
      storedNonHuman: Number(stored.other),
      countedFromNonHuman: Math.max(0, dashboardConverted - Number(stored.human)),
    },
  };
}
