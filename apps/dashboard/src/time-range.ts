/**
 * The range the dashboard asks for: whole UTC hours (the roll-ups' grain), the end being the start of
 * the next hour so the current one is included. Day and week presets start at midnight on the chosen
 * time zone's wall clock (floored to the hour for zones off by half an hour).
 */
export type Bucket = 'hour' | 'day' | 'week';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The offset of `tz` from UTC at `at`, ms (positive east of Greenwich). */
function zoneOffset(at: Date, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/** The UTC instant of midnight of the wall-clock date `y-m-d` in `tz`. */
function midnight(y: number, m: number, d: number, tz: string): number {
  const guess = Date.UTC(y, m - 1, d);
  return guess - zoneOffset(new Date(guess), tz);
}

const floorHour = (ms: number) => Math.floor(ms / HOUR) * HOUR;

/** The wall-clock date of `at` in `tz` as `YYYY-MM-DD`. */
export function wallDate(at: Date, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/**
 * The preset the page opens with: the last seven days up to the end of the current hour, so a fresh
 * demo's clicks of a minute ago are in it (today's bar, or today's hours with `24h`).
 */
export const DEFAULT_PRESET = '7d';

/** A preset or custom range as UTC instants. */
export function rangeOf(
  preset: string,
  tz: string,
  now: Date,
  custom?: { from: string; to: string },
): { from: Date; to: Date } {
  const to = floorHour(now.getTime()) + HOUR;
  if (preset === 'custom' && custom?.from && custom.to) {
    const [fy, fm, fd] = custom.from.split('-').map(Number) as [number, number, number];
    const [ty, tm, td] = custom.to.split('-').map(Number) as [number, number, number];
    // `to` is the last day shown: the range ends at the following midnight.
    return {
      from: new Date(floorHour(midnight(fy, fm, fd, tz))),
      to: new Date(Math.ceil(midnight(ty, tm, td + 1, tz) / HOUR) * HOUR),
    };
  }
  if (preset === '24h') return { from: new Date(to - 24 * HOUR), to: new Date(to) };
  const days = preset === '30d' ? 30 : preset === '12w' ? 84 : 7;
  const [y, m, d] = wallDate(now, tz).split('-').map(Number) as [number, number, number];
  const start = midnight(y, m, d, tz) - (days - 1) * DAY;
  return { from: new Date(floorHour(start)), to: new Date(to) };
}

/** The bucket a preset reads best in. */
export function defaultBucket(preset: string): Bucket {
  return preset === '24h' ? 'hour' : preset === '12w' ? 'week' : 'day';
}
