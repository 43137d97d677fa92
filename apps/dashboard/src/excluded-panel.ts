/**
 * The "Excluded traffic" panel (docs/protocol.md, Bots and automation): what every other figure left
 * out in the range, by class (sessions and their page views) and by user agent with the reason, from
 * `GET /v1/admin/insights/excluded`. With "Include bots and automation" ticked the other panels count
 * this traffic too; this panel shows it either way.
 */
import type { ExcludedTraffic } from '@devicelink/protocol/schemas';
import { counted, figure, show, table } from './dom.js';
import { NO_DATA, type View } from './panels.js';

/**
 * Longest user agent shown in the table (a browser's is 100 to 200 characters; junk up to the 512 stored
 * is cut, and the export and the device lookup have it whole).
 */
const SHOWN_USER_AGENT = 200;

/** What was left out of the figures of `v`'s range (one request, read by the panel and the hints). */
export function fetchExcluded(v: View): Promise<ExcludedTraffic> {
  return v.api.get<ExcludedTraffic>('/v1/admin/insights/excluded', {
    from: v.from.toISOString(),
    to: v.to.toISOString(),
    limit: 10,
  });
}

const sessionsOf = (r: ExcludedTraffic) => r.byClass.reduce((n, c) => n + c.sessions, 0);

/**
 * The empty text of a panel that counts people only: when the range has excluded traffic, it says so
 * and how to count it (a demo clicked through in a headless browser is automation, and shows nowhere
 * else), instead of a bare "no data".
 */
export function emptyUnlessExcluded(v: View, excluded: Promise<ExcludedTraffic>): () => Promise<string> {
  return async () => {
    if (v.traffic === 'all') return NO_DATA;
    const n = sessionsOf(await excluded);
    if (n === 0) return NO_DATA;
    const classes = (await excluded).byClass
      .filter((c) => c.sessions > 0)
      .map((c) => c.trafficClass)
      .join(' or ');
    return `No people's traffic in this range: ${n} ${counted(n, ['session', 'sessions'])} of ${classes} left out (a headless or driven browser counts as automation). Tick “Include bots and automation” to count ${n === 1 ? 'it' : 'them'}.`;
  };
}

/** Sessions and page views left out of the figures, by class and top user agents. */
export async function excludedPanel(
  panel: HTMLElement,
  excluded: Promise<ExcludedTraffic>,
): Promise<boolean> {
  const r = await excluded;
  const total = sessionsOf(r);
  show(
    panel.querySelector('[data-figures]'),
    figure(['session excluded', 'sessions excluded'], total),
    ...r.byClass.map((c) => figure([`${c.trafficClass} session`, `${c.trafficClass} sessions`], c.sessions)),
  );
  show(
    panel.querySelector('[data-table-classes]'),
    table(
      'Excluded sessions by class',
      ['Class', 'Sessions', 'Page views'],
      r.byClass.map((c) => [c.trafficClass, c.sessions, c.pageViews]),
      { textColumns: [0], id: 'excluded-classes-table' },
    ),
  );
  const agents = table(
    'Excluded sessions by user agent',
    ['User agent', 'Class', 'Reason', 'Sessions'],
    r.topUserAgents.map((a) => {
      const ua = a.userAgent ?? '(none)';
      return [
        ua.length > SHOWN_USER_AGENT ? `${ua.slice(0, SHOWN_USER_AGENT)}…` : ua,
        a.trafficClass,
        a.reason ?? '',
        a.sessions,
      ];
    }),
    { textColumns: [0, 1, 2], id: 'excluded-agents-table' },
  );
  // A user agent broken between words only, the whole of it on hover; the class and reason never broken.
  [...(agents.tBodies[0]?.rows ?? [])].forEach((row, i) => {
    row.cells[0]?.classList.add('ua');
    if (row.cells[0]) row.cells[0].title = r.topUserAgents[i]?.userAgent ?? '(none)';
    row.cells[1]?.classList.add('whole');
    row.cells[2]?.classList.add('whole');
  });
  show(panel.querySelector('[data-table-agents]'), agents);
  return total > 0;
}
