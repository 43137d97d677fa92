/**
 * The UTC day of a time, the unit of the daily salt (visitor hashes, hashed rate-limit addresses).
 */

const DAY_MS = 86_400_000;
/** The last day formatted: [start, start + DAY_MS). */
const day = { start: Number.NEGATIVE_INFINITY, text: '' };

/** The UTC day (`YYYY-MM-DD`) of a Unix-ms time. */
export function utcDay(now: number): string {
  // Asked on every request (salts are per day): format a day once, not a Date per call.
  if (now < day.start || now >= day.start + DAY_MS) {
    day.start = now - (((now % DAY_MS) + DAY_MS) % DAY_MS);
    day.text = new Date(day.start).toISOString().slice(0, 10);
  }
  return day.text;
}
