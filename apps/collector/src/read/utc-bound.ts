/**
 * Parses the `from` / `to` bounds of the stats route: ISO-8601 in UTC, either a date (`2026-01-31`,
 * midnight UTC) or a date and time with `Z` or `+00:00` (`2026-01-31T12:00:00Z`,
 * `2026-01-31T12:00:00.250+00:00`). Anything else, including impossible dates, is null.
 */
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|\+00:?00))?$/;

/**
 * The instant of an ISO-8601 UTC bound, or null when `value` is not one.
 *
 * @example
 * parseUtcBound('2026-01-31'); // 2026-01-31T00:00:00.000Z
 * parseUtcBound('2026-01-31T12:00:00+02:00'); // null: not UTC
 */
export function parseUtcBound(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const m = ISO_UTC.exec(value);
  if (!m) return null;
  const [y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m.slice(1);
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const date = new Date(t);
  // Date.UTC rolls 2026-02-30 over to March: such a date is refused, not moved.
  if (
    Number.isNaN(t) ||
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi) ||
    date.getUTCSeconds() !== Number(s)
  ) {
    return null;
  }
  return date;
}
