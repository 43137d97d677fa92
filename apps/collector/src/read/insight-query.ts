/**
 * The query parameters of the read routes (apps/collector/README.md, Dashboard and read API), checked before
 * any SQL runs: a range of whole UTC hours (the roll-ups' grain) no longer than its bucket allows, a time
 * zone Postgres knows, a bounded limit and a cursor that decodes. Anything else is a 400 naming the
 * parameter.
 */
import type { Database } from '@devicelink/persister';
import { type Kysely, sql } from 'kysely';
import { InvalidQueryError, InvalidStatsRangeError } from '../http/errors.js';
import { parseUtcBound } from './utc-bound.js';

/** A time series bucket. */
export type Bucket = 'hour' | 'day' | 'week';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Longest range per bucket: a chart of at most ~800 points. */
export const MAX_RANGE_DAYS: Readonly<Record<Bucket, number>> = { hour: 31, day: 400, week: 1_100 };
/** Longest range of the figures that are not series (conversion, paths, top pages). */
export const MAX_FIGURES_DAYS = 400;

/** A checked range `[from, to)`. */
export interface HourRange {
  from: Date;
  to: Date;
}

/** JSON schema of `from` and `to`, for the routes' OpenAPI. */
export const rangeQuerySchema = {
  from: {
    type: 'string',
    maxLength: 40,
    description: 'ISO-8601 UTC, a whole hour, inclusive (2026-01-01 or 2026-01-01T10:00:00Z)',
  },
  to: { type: 'string', maxLength: 40, description: 'ISO-8601 UTC, a whole hour, exclusive' },
} as const;

/**
 * `from` and `to` as a range of whole UTC hours of at most `maxDays`.
 *
 * @example
 * parseHourRange({ from: '2026-01-01', to: '2026-01-08' }, 31);
 */
export function parseHourRange(query: { from?: unknown; to?: unknown }, maxDays: number): HourRange {
  const bounds: Date[] = [];
  for (const name of ['from', 'to'] as const) {
    const raw = query[name];
    if (raw === undefined) {
      throw new InvalidStatsRangeError(
        `${name} is required (ISO-8601 UTC, a whole hour, e.g. 2026-01-01T10:00:00Z)`,
      );
    }
    const value = parseUtcBound(raw);
    if (value === null) {
      throw new InvalidStatsRangeError(
        `${name} ${JSON.stringify(String(raw).slice(0, 40))} is not an ISO-8601 UTC date or time (e.g. 2026-01-01T10:00:00Z)`,
      );
    }
    if (value.getTime() % HOUR !== 0) {
      throw new InvalidStatsRangeError(`${name} must be a whole UTC hour: the figures are kept per hour`);
    }
    bounds.push(value);
  }
  const [from, to] = bounds as [Date, Date];
  if (from.getTime() >= to.getTime())
    throw new InvalidStatsRangeError('from must be before to (the range is [from, to))');
  if (to.getTime() - from.getTime() > maxDays * DAY) {
    throw new InvalidStatsRangeError(
      `the range is longer than ${maxDays} days; ask for a shorter one or a larger bucket`,
    );
  }
  return { from, to };
}

/** Page size of a list: `fallback` when absent, 1..`max`. Schemas already make it an integer. */
export function parseLimit(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidQueryError(`limit must be a whole number from 1 to ${max}`);
  }
  return value;
}

/**
 * The time zones Postgres knows, read once per database: a zone is refused (400) before it reaches a
 * query that would fail on it.
 */
export function timeZoneChecker(db: Kysely<Database>): (tz: string | undefined) => Promise<string> {
  let zones: Promise<Set<string>> | null = null;
  return async (tz) => {
    if (tz === undefined || tz === 'UTC') return 'UTC';
    if (tz.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tz)) {
      throw new InvalidQueryError('tz must be an IANA time zone such as Europe/Paris');
    }
    zones ??= sql<{ name: string }>`select name from pg_timezone_names`
      .execute(db)
      .then((r) => new Set(r.rows.map((z) => z.name)));
    let known: Set<string>;
    try {
      known = await zones;
    } catch (err) {
      zones = null;
      throw err;
    }
    if (!known.has(tz))
      throw new InvalidQueryError(`tz ${JSON.stringify(tz)} is not a time zone Postgres knows`);
    return tz;
  };
}

/** A keyset cursor: the time and id of the last row a page gave. Opaque to clients (base64url JSON). */
export interface Cursor {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Encodes a cursor. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

/** Decodes `cursor` (undefined: the first page); a cursor that is not one of ours is a 400. */
export function decodeCursor(cursor: string | undefined): Cursor | null {
  if (cursor === undefined) return null;
  const bad = () => new InvalidQueryError('cursor is not a cursor this collector gave');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad();
  const [iso, id] = parsed as unknown[];
  const at = typeof iso === 'string' ? new Date(iso) : null;
  if (!at || Number.isNaN(at.getTime()) || typeof id !== 'string' || !UUID.test(id)) throw bad();
  return { at, id };
}
