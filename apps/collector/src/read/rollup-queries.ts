/**
 * The dashboard's figures from the hourly roll-ups (`rollup_hourly`, maintained by the persister in the
 * transaction of the rows they count): every query is a range scan of the roll-up primary key
 * (metric, hour, …), summed over writers. Definitions of the metrics: `@devicelink/persister`'s
 * `METRICS`.
 */
import {
  type Database,
  METRICS,
  TIME_TO_CONVERT_BINS,
  VIEWS_BEFORE_CONVERSION_BINS,
} from '@devicelink/persister';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Bucket, HourRange } from './insight-query.js';
import { type TrafficScope, trafficFilter } from './traffic-scope.js';

/** One bucket of the time series. */
export interface SeriesPoint {
  /** Start of the bucket, an ISO-8601 UTC instant. */
  start: string;
  /** Start of the bucket on the wall clock of the time zone (`YYYY-MM-DDTHH:MM`). */
  local: string;
  pageViewsAnonymous: number;
  pageViewsSignedIn: number;
  /** Anonymous sessions started in the bucket. */
  sessions: number;
  /** Of those, how many are converted (whenever the link came). */
  convertedSessions: number;
  /** converted / sessions; null without sessions. */
  conversionRate: number | null;
}

const rate = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * Page views (anonymous and signed-in), sessions and conversions per bucket of `tz`'s wall clock, every
 * bucket of the range present (zeros included).
 */
export async function timeSeries(
  db: Kysely<Database>,
  range: HourRange,
  bucket: Bucket,
  tz: string,
  scope: TrafficScope = 'human',
): Promise<SeriesPoint[]> {
  const result = await timeSeriesQuery(range, bucket, tz, scope).execute(db);
  const points = new Map<string, SeriesPoint>();
  for (const r of result.rows) {
    let p = points.get(r.local);
    if (!p) {
      p = {
        start: new Date(r.start).toISOString(),
        local: r.local,
        pageViewsAnonymous: 0,
        pageViewsSignedIn: 0,
        sessions: 0,
        convertedSessions: 0,
        conversionRate: null,
      };
      points.set(r.local, p);
    }
    const n = Number(r.n ?? 0);
    if (r.metric === METRICS.pageViewsAnonymous) p.pageViewsAnonymous = n;
    else if (r.metric === METRICS.pageViewsSignedIn) p.pageViewsSignedIn = n;
    else if (r.metric === METRICS.sessions) p.sessions = n;
    else if (r.metric === METRICS.converted) p.convertedSessions = n;
  }
  for (const p of points.values()) p.conversionRate = rate(p.convertedSessions, p.sessions);
  return [...points.values()];
}

/** The SQL of {@link timeSeries} (the bench checks its plan). */
export function timeSeriesQuery(
  range: HourRange,
  bucket: Bucket,
  tz: string,
  scope: TrafficScope = 'human',
): RawBuilder<{ start: Date; local: string; metric: string | null; n: string | null }> {
  const step = `1 ${bucket}`;
  return sql<{ start: Date; local: string; metric: string | null; n: string | null }>`
    with buckets as (
      select b as local_start
      from generate_series(
        date_trunc(${bucket}, ${range.from}::timestamptz at time zone ${tz}),
        (${range.to}::timestamptz - interval '1 microsecond') at time zone ${tz},
        ${step}::interval
      ) as b
    ),
    counts as (
      select date_trunc(${bucket}, hour at time zone ${tz}) as local_start, metric, sum(n) as n
      from rollup_hourly
      where metric in (${sql.join([
        METRICS.pageViewsAnonymous,
        METRICS.pageViewsSignedIn,
        METRICS.sessions,
        METRICS.converted,
      ])})
        ${trafficFilter(scope)} and hour >= ${range.from} and hour < ${range.to}
      group by 1, 2
    )
    select b.local_start at time zone ${tz} as start, to_char(b.local_start, 'YYYY-MM-DD"T"HH24:MI') as local,
      c.metric, c.n::text as n
    from buckets as b left join counts as c on c.local_start = b.local_start
    order by b.local_start
  `;
}

/** One bin of a histogram: `[lower, upper)`, upper null for the last, open bin. */
export interface HistogramBin {
  lower: number;
  upper: number | null;
  count: number;
}

/** The conversion figures of a range. */
export interface ConversionFigures {
  sessionsStarted: number;
  convertedSessions: number;
  conversionRate: number | null;
  /** Seconds from a converted session's first page view to its link. */
  timeToConvert: HistogramBin[];
  /** Page views of a converted session at or before its link. */
  viewsBeforeConversion: HistogramBin[];
}

async function sums(
  db: Kysely<Database>,
  range: HourRange,
  metrics: readonly string[],
  scope: TrafficScope,
): Promise<Map<string, Map<string, number>>> {
  const rows = await sql<{ metric: string; key: string; n: string }>`
    select metric, key, sum(n)::text as n from rollup_hourly
    where metric in (${sql.join(metrics)}) ${trafficFilter(scope)}
      and hour >= ${range.from} and hour < ${range.to}
    group by 1, 2
  `.execute(db);
  const out = new Map<string, Map<string, number>>();
  for (const r of rows.rows) {
    if (!out.has(r.metric)) out.set(r.metric, new Map());
    out.get(r.metric)!.set(r.key, Number(r.n));
  }
  return out;
}

function histogram(bins: readonly number[], counts: Map<string, number> | undefined): HistogramBin[] {
  return bins.map((lower, i) => ({
    lower,
    upper: bins[i + 1] ?? null,
    count: counts?.get(String(lower)) ?? 0,
  }));
}

/** Sessions started in the range, how many converted, and the two histograms of the converted ones. */
export async function conversionFigures(
  db: Kysely<Database>,
  range: HourRange,
  scope: TrafficScope = 'human',
): Promise<ConversionFigures> {
  const s = await sums(
    db,
    range,
    [METRICS.sessions, METRICS.converted, METRICS.timeToConvert, METRICS.viewsBeforeConversion],
    scope,
  );
  const started = s.get(METRICS.sessions)?.get('') ?? 0;
  const converted = s.get(METRICS.converted)?.get('') ?? 0;
  return {
    sessionsStarted: started,
    convertedSessions: converted,
    conversionRate: rate(converted, started),
    timeToConvert: histogram(TIME_TO_CONVERT_BINS, s.get(METRICS.timeToConvert)),
    viewsBeforeConversion: histogram(VIEWS_BEFORE_CONVERSION_BINS, s.get(METRICS.viewsBeforeConversion)),
  };
}

/** An entry page or referrer origin: sessions that began there, and how many of them converted. */
export interface EntryRow {
  key: string;
  convertedSessions: number;
  sessions: number;
  conversionRate: number | null;
}

async function entries(
  db: Kysely<Database>,
  range: HourRange,
  all: string,
  converted: string,
  limit: number,
  scope: TrafficScope,
): Promise<EntryRow[]> {
  const rows = await sql<{ key: string; converted: string | bigint; sessions: string | bigint }>`
    select key,
      coalesce(sum(n) filter (where metric = ${converted}), 0)::bigint as converted,
      coalesce(sum(n) filter (where metric = ${all}), 0)::bigint as sessions
    from rollup_hourly
    where metric in (${all}, ${converted}) ${trafficFilter(scope)}
      and hour >= ${range.from} and hour < ${range.to}
    group by key
    having sum(n) filter (where metric = ${all}) <> 0
    order by converted desc, sessions desc, key
    limit ${limit}
  `.execute(db);
  return rows.rows.map((r) => ({
    key: r.key,
    convertedSessions: Number(r.converted),
    sessions: Number(r.sessions),
    conversionRate: rate(Number(r.converted), Number(r.sessions)),
  }));
}

/** The paths before login: entry pages and entry referrer origins of converted sessions against all. */
export async function pathsBeforeLogin(
  db: Kysely<Database>,
  range: HourRange,
  limit: number,
  scope: TrafficScope = 'human',
): Promise<{ entryPages: EntryRow[]; entryReferrers: EntryRow[] }> {
  const [entryPages, entryReferrers] = await Promise.all([
    entries(db, range, METRICS.entryPage, METRICS.entryPageConverted, limit, scope),
    entries(db, range, METRICS.entryReferrer, METRICS.entryReferrerConverted, limit, scope),
  ]);
  return { entryPages, entryReferrers };
}

/** A page or referrer origin and its page views. */
export interface TopRow {
  key: string;
  pageViews: number;
}

/** The SQL of the top `limit` keys of `metric` in the range (the bench checks its plan). */
export function topQuery(
  range: HourRange,
  metric: string,
  limit: number,
  scope: TrafficScope = 'human',
): RawBuilder<{ key: string; n: string }> {
  return sql<{ key: string; n: string }>`
    select key, sum(n)::text as n from rollup_hourly
    where metric = ${metric} ${trafficFilter(scope)} and hour >= ${range.from} and hour < ${range.to}
    group by key having sum(n) <> 0
    order by sum(n) desc, key
    limit ${limit}
  `;
}

async function top(
  db: Kysely<Database>,
  range: HourRange,
  metric: string,
  limit: number,
  scope: TrafficScope,
): Promise<TopRow[]> {
  const rows = await topQuery(range, metric, limit, scope).execute(db);
  return rows.rows.map((r) => ({ key: r.key, pageViews: Number(r.n) }));
}

/** The most viewed pages and referrer origins ('' is no referrer). */
export async function topPages(
  db: Kysely<Database>,
  range: HourRange,
  limit: number,
  scope: TrafficScope = 'human',
): Promise<{ pages: TopRow[]; referrers: TopRow[] }> {
  const [pages, referrers] = await Promise.all([
    top(db, range, METRICS.page, limit, scope),
    top(db, range, METRICS.referrer, limit, scope),
  ]);
  return { pages, referrers };
}
