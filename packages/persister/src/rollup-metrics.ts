/**
 * What the hourly roll-ups count (README.md, The dashboard, "Exact and fast at size"): the metric names, the
 * fixed histogram bins, the SQL that turns a page view's URL and referrer into roll-up keys, and the
 * contribution of one session. The persister's writes, the rebuild and the dashboard's reads all take their
 * definitions from here.
 */
import { type RawBuilder, sql } from 'kysely';

/** The metrics of `rollup_hourly`. Page-view metrics are by the view's hour, session metrics by the session's start. */
export const METRICS = {
  /** Page views without a user (anonymous), key ''. */
  pageViewsAnonymous: 'pv_anon',
  /** Page views of a signed-in user, key ''. */
  pageViewsSignedIn: 'pv_user',
  /** Page views by page (URL without query and fragment). */
  page: 'page',
  /** Page views by referrer origin ('' for none). */
  referrer: 'referrer',
  /** Sessions started, key ''. */
  sessions: 'sessions',
  /** Sessions started that are converted (whenever the link came), key ''. */
  converted: 'converted',
  /** Sessions started, by entry page. */
  entryPage: 'entry_page',
  /** Converted sessions started, by entry page. */
  entryPageConverted: 'entry_page_converted',
  /** Sessions started, by entry referrer origin. */
  entryReferrer: 'entry_referrer',
  /** Converted sessions started, by entry referrer origin. */
  entryReferrerConverted: 'entry_referrer_converted',
  /** Converted sessions by seconds from first page view to link, key: the bin's lower bound. */
  timeToConvert: 'time_to_convert',
  /** Converted sessions by page views at or before the link, key: the bin's lower bound. */
  viewsBeforeConversion: 'views_before_conversion',
} as const;

/** Lower bounds (seconds) of the time-to-convert bins; the last bin is open-ended. */
export const TIME_TO_CONVERT_BINS: readonly number[] = [
  0, 10, 30, 60, 300, 900, 3_600, 21_600, 86_400, 604_800,
];
/** Lower bounds of the page-views-before-conversion bins; the last bin is open-ended. */
export const VIEWS_BEFORE_CONVERSION_BINS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 11, 21, 51];

/** Longest page key kept: longer URLs are cut (their counts merge under the prefix). */
const PAGE_KEY_LENGTH = 512;

/** The bin (its lower bound) that `value` falls in. */
export function binOf(bins: readonly number[], value: number): number {
  let lower = bins[0]!;
  for (const b of bins) if (value >= b) lower = b;
  return lower;
}

/** SQL: the page key of a URL column (no query, no fragment, at most {@link PAGE_KEY_LENGTH} characters). */
export function pageKeySql(url: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`left(split_part(split_part(${url}, '#', 1), '?', 1), ${sql.lit(PAGE_KEY_LENGTH)})`;
}

/** SQL: the referrer key of a referrer column: its lower-cased origin, '' for none or an unparsable one. */
export function referrerKeySql(referrer: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`coalesce(lower(substring(${referrer} from '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*')), '')`;
}

/** The roll-up state of a session (a `session_rollups` row as read back). */
export interface SessionRollupState {
  first_seen: Date;
  converted_user_id: string | null;
  converted_at: Date | null;
  entry_page: string;
  entry_referrer: string;
  views_before_conversion: number | null;
  /** The session's traffic class: its contributions are counted under it. */
  traffic_class: string;
}

/** One counted thing: metric, hour (ms), key, traffic class. */
export type Contribution = readonly [metric: string, hour: number, key: string, trafficClass: string];

const HOUR = 3_600_000;

/** The UTC hour (ms) holding `d`. */
const hourOf = (d: Date): number => Math.floor(d.getTime() / HOUR) * HOUR;

/** What one session adds to the roll-ups, each entry counting 1. */
export function sessionContributions(s: SessionRollupState): Contribution[] {
  const hour = hourOf(s.first_seen);
  const cls = s.traffic_class;
  const out: Contribution[] = [
    [METRICS.sessions, hour, '', cls],
    [METRICS.entryPage, hour, s.entry_page, cls],
    [METRICS.entryReferrer, hour, s.entry_referrer, cls],
  ];
  if (s.converted_user_id !== null && s.converted_at !== null) {
    const seconds = Math.max(0, (s.converted_at.getTime() - s.first_seen.getTime()) / 1000);
    out.push(
      [METRICS.converted, hour, '', cls],
      [METRICS.entryPageConverted, hour, s.entry_page, cls],
      [METRICS.entryReferrerConverted, hour, s.entry_referrer, cls],
      [METRICS.timeToConvert, hour, String(binOf(TIME_TO_CONVERT_BINS, seconds)), cls],
      [
        METRICS.viewsBeforeConversion,
        hour,
        String(binOf(VIEWS_BEFORE_CONVERSION_BINS, s.views_before_conversion ?? 0)),
        cls,
      ],
    );
  }
  return out;
}
