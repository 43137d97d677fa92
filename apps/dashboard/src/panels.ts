/**
 * The panels of the dashboard. Each shows "Loading…" while its request runs, a message when the range
 * has no data, the collector's message on an error, and otherwise its chart with the same series as a
 * table beside it.
 */
import type {
  ConversionFigures,
  HistogramBin,
  IdentityFigures,
  PathsBeforeLogin,
  TimeSeries,
  TopPages,
} from '@devicelink/protocol/schemas';
import { type Api, ApiError } from './api-client.js';
import { clearChart, histogramChart, timeChart } from './charts.js';
import { figure, percent, show, table } from './dom.js';
import type { Bucket } from './time-range.js';

/** What every panel reads. */
export interface View {
  api: Api;
  from: Date;
  to: Date;
  bucket: Bucket;
  tz: string;
  /** `all`: the figures count bots, automation and fleets too (`?traffic=all`). */
  traffic: 'human' | 'all';
}

type Range = { from: string; to: string; traffic?: 'all' };
const rangeQuery = (v: View): Range => ({
  from: v.from.toISOString(),
  to: v.to.toISOString(),
  ...(v.traffic === 'all' ? { traffic: 'all' as const } : {}),
});

/** What an empty panel says when nothing else explains it. */
export const NO_DATA = 'No data in this range yet.';

/**
 * Runs `load` for the panel `id`, with its loading and error states; `onAuth` is told of a 401.
 * `emptyText` is what the panel says when `load` found nothing: a text, or a function that finds the
 * reason (its failure falls back to {@link NO_DATA}).
 */
export async function runPanel(
  id: string,
  load: (panel: HTMLElement) => Promise<boolean>,
  onAuth: () => void,
  emptyText: string | (() => Promise<string>) = NO_DATA,
): Promise<void> {
  const panel = document.getElementById(id);
  if (!panel) return;
  const state = panel.querySelector('[data-state]');
  panel.setAttribute('aria-busy', 'true');
  panel.dataset.status = 'loading';
  if (state) {
    state.className = 'state';
    state.textContent = 'Loading…';
  }
  try {
    const hasData = await load(panel);
    if (state) {
      state.textContent = hasData
        ? ''
        : typeof emptyText === 'string'
          ? emptyText
          : await emptyText().catch(() => NO_DATA);
    }
    panel.dataset.status = hasData ? 'ready' : 'empty';
  } catch (err) {
    for (const c of panel.querySelectorAll('[data-chart],[data-chart-ttc],[data-chart-vbc]')) clearChart(c);
    for (const t of panel.querySelectorAll('.table-wrap,[data-figures],[data-result]')) t.replaceChildren();
    if (state) {
      state.className = 'state error';
      state.textContent = `Could not load: ${err instanceof Error ? err.message : String(err)}`;
    }
    panel.dataset.status = 'error';
    if (err instanceof ApiError && err.status === 401) onAuth();
  } finally {
    panel.removeAttribute('aria-busy');
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Page views (anonymous, signed-in) and sessions over time. */
export async function trafficPanel(v: View, panel: HTMLElement): Promise<boolean> {
  const { points } = await v.api.get<TimeSeries>('/v1/admin/insights/timeseries', {
    ...rangeQuery(v),
    bucket: v.bucket,
    tz: v.tz,
  });
  const anon = points.map((p) => p.pageViewsAnonymous);
  const signed = points.map((p) => p.pageViewsSignedIn);
  const sessions = points.map((p) => p.sessions);
  const hasData = sum(anon) + sum(signed) + sum(sessions) > 0;
  const chart = panel.querySelector('[data-chart]')!;
  if (hasData) {
    timeChart(
      chart,
      points.map((p) => Date.parse(p.start)),
      [
        { label: 'Anonymous page views', values: anon },
        { label: 'Signed-in page views', values: signed },
        { label: 'Sessions', values: sessions },
      ],
      v.tz,
      v.bucket === 'hour',
    );
  } else clearChart(chart);
  show(
    panel.querySelector('[data-table]'),
    table(
      `Per ${v.bucket}, ${v.tz}`,
      [
        v.bucket === 'hour' ? 'Hour' : v.bucket === 'day' ? 'Day' : 'Week of',
        'Anonymous views',
        'Signed-in views',
        'Sessions',
      ],
      points.map((p) => [p.local.replace('T', ' '), p.pageViewsAnonymous, p.pageViewsSignedIn, p.sessions]),
      { footer: ['Total', sum(anon), sum(signed), sum(sessions)], id: 'traffic-table' },
    ),
  );
  return hasData;
}

const binLabel = (b: HistogramBin, unit: (n: number) => string) =>
  b.upper === null
    ? `${unit(b.lower)}+`
    : b.upper - b.lower === 1
      ? unit(b.lower)
      : `${unit(b.lower)}–${unit(b.upper - 1)}`;
const duration = (s: number) =>
  s >= 86_400
    ? `${Math.round(s / 86_400)} d`
    : s >= 3_600
      ? `${Math.round(s / 3_600)} h`
      : s >= 60
        ? `${Math.round(s / 60)} min`
        : `${s} s`;
const secondsLabel = (b: HistogramBin) =>
  b.upper === null ? `${duration(b.lower)} or more` : `${duration(b.lower)} to ${duration(b.upper)}`;

function histogramInto(
  panel: HTMLElement,
  key: 'ttc' | 'vbc',
  bins: HistogramBin[],
  labels: string[],
  title: string,
) {
  const counts = bins.map((b) => b.count);
  const chart = panel.querySelector(`[data-chart-${key}]`)!;
  if (sum(counts) > 0) histogramChart(chart, labels, counts, title);
  else clearChart(chart);
  show(
    panel.querySelector(`[data-table-${key}]`),
    table(
      title,
      ['Bin', 'Converted sessions'],
      bins.map((b, i) => [labels[i]!, b.count]),
      {
        footer: ['Total', sum(counts)],
        id: `${key}-table`,
      },
    ),
  );
}

/** Conversion: sessions started and converted over time, the rate, and the two histograms. */
export async function conversionPanel(v: View, panel: HTMLElement): Promise<boolean> {
  const [figures, series] = await Promise.all([
    v.api.get<ConversionFigures>('/v1/admin/insights/conversion', rangeQuery(v)),
    v.api.get<TimeSeries>('/v1/admin/insights/timeseries', {
      ...rangeQuery(v),
      bucket: v.bucket,
      tz: v.tz,
    }),
  ]);
  show(
    panel.querySelector('[data-figures]'),
    figure(['session started', 'sessions started'], figures.sessionsStarted),
    figure('converted', figures.convertedSessions),
    figure('conversion rate', percent(figures.conversionRate)),
  );
  const hasData = figures.sessionsStarted > 0;
  const chart = panel.querySelector('[data-chart]')!;
  if (hasData) conversionChart(v, chart, series.points);
  else clearChart(chart);
  show(panel.querySelector('[data-table]'), conversionTable(v, figures, series.points));
  histogramInto(
    panel,
    'ttc',
    figures.timeToConvert,
    figures.timeToConvert.map(secondsLabel),
    'Time to convert',
  );
  histogramInto(
    panel,
    'vbc',
    figures.viewsBeforeConversion,
    figures.viewsBeforeConversion.map((b) => binLabel(b, String)),
    'Page views before conversion',
  );
  return hasData;
}

/** Sessions started and converted per bucket as bars, the rate as a line on the right axis. */
function conversionChart(v: View, chart: Element, points: TimeSeries['points']): void {
  timeChart(
    chart,
    points.map((p) => Date.parse(p.start)),
    [
      { label: 'Sessions started', values: points.map((p) => p.sessions), bars: true },
      { label: 'Converted', values: points.map((p) => p.convertedSessions), bars: true },
      {
        label: 'Rate %',
        values: points.map((p) => (p.conversionRate === null ? null : p.conversionRate * 100)),
        right: true,
      },
    ],
    v.tz,
    v.bucket === 'hour',
  );
}

/** The chart's series as a table, the range's figures as its footer. */
function conversionTable(v: View, figures: ConversionFigures, points: TimeSeries['points']): HTMLElement {
  return table(
    `Sessions by start, per ${v.bucket}`,
    ['Start', 'Sessions', 'Converted', 'Rate'],
    points.map((p) => [
      p.local.replace('T', ' '),
      p.sessions,
      p.convertedSessions,
      percent(p.conversionRate),
    ]),
    {
      footer: ['Total', figures.sessionsStarted, figures.convertedSessions, percent(figures.conversionRate)],
      id: 'conversion-table',
    },
  );
}

/**
 * A roll-up key as shown: '' is no referrer; `(other)` the pages (or origins) past the most viewed of
 * their hour (the collector's ROLLUP_KEYS_PER_HOUR), counted together.
 */
const orNone = (key: string) =>
  key === '' ? '(none)' : key === '(other)' ? '(other: past the top of their hour)' : key;

/** The paths before login: entry pages and referrers of converted sessions against all. */
export async function pathsPanel(v: View, panel: HTMLElement): Promise<boolean> {
  const r = await v.api.get<PathsBeforeLogin>('/v1/admin/insights/paths', {
    ...rangeQuery(v),
    limit: 10,
  });
  const rows = (list: PathsBeforeLogin['entryPages']) =>
    list.map((e) => [orNone(e.key), e.convertedSessions, e.sessions, percent(e.conversionRate)]);
  const cols = ['Converted', 'All sessions', 'Rate'];
  show(
    panel.querySelector('[data-table-pages]'),
    table('Sessions by entry page', ['Entry page', ...cols], rows(r.entryPages), {
      textColumns: [0],
      id: 'paths-pages-table',
    }),
  );
  show(
    panel.querySelector('[data-table-referrers]'),
    table('Sessions by entry referrer', ['Referrer origin', ...cols], rows(r.entryReferrers), {
      textColumns: [0],
      id: 'paths-referrers-table',
    }),
  );
  return r.entryPages.length > 0;
}

/** Top pages and referrer origins by page views. */
export async function topPanel(v: View, panel: HTMLElement): Promise<boolean> {
  const r = await v.api.get<TopPages>('/v1/admin/insights/top', {
    ...rangeQuery(v),
    limit: 10,
  });
  const rows = (list: TopPages['pages']) => list.map((t) => [orNone(t.key), t.pageViews]);
  show(
    panel.querySelector('[data-table-pages]'),
    table('Page views by page', ['Page', 'Views'], rows(r.pages), {
      textColumns: [0],
      id: 'top-pages-table',
    }),
  );
  show(
    panel.querySelector('[data-table-referrers]'),
    table('Page views by referrer', ['Referrer origin', 'Views'], rows(r.referrers), {
      textColumns: [0],
      id: 'top-referrers-table',
    }),
  );
  return r.pages.length > 0;
}

/** Identity quality now (not by range). */
export async function identityPanel(v: View, panel: HTMLElement): Promise<boolean> {
  const f = await v.api.get<IdentityFigures>(
    '/v1/admin/insights/identity',
    v.traffic === 'all' ? { traffic: 'all' } : {},
  );
  show(
    panel.querySelector('[data-figures]'),
    figure(['device', 'devices'], f.devices),
    figure(['user', 'users'], f.users),
    figure(['cookie or yield edge', 'cookie and yield edges'], f.cookieEdges),
    figure(['fingerprint join standing', 'fingerprint joins standing'], f.fingerprintJoins?.standing ?? null),
    figure(['fingerprint join revoked', 'fingerprint joins revoked'], f.fingerprintJoins?.revoked ?? null),
    figure(['shared fingerprint', 'shared fingerprints'], f.sharedFingerprints),
    figure(['server-made id', 'server-made ids'], f.serverMadeIds),
  );
  const labels = f.devicesPerUser.map((b) => binLabel(b, String));
  const counts = f.devicesPerUser.map((b) => b.count);
  const chart = panel.querySelector('[data-chart]')!;
  if (f.users > 0) histogramChart(chart, labels, counts, 'Users');
  else clearChart(chart);
  show(
    panel.querySelector('[data-table]'),
    table(
      'Users by devices linked by login',
      ['Devices', 'Users'],
      labels.map((l, i) => [l, counts[i]!]),
      {
        footer: ['Total', f.users],
        id: 'identity-table',
      },
    ),
  );
  return f.devices > 0;
}
