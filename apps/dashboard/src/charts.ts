/**
 * Charts drawn by uPlot (canvas; see the README for why uPlot). Each chart sits beside a table of the
 * same series, which is what screen readers and the tests read; the chart itself is `aria-hidden`.
 */
import uPlot from 'uplot';

const COLORS = ['#3355d1', '#12a37a', '#e08a00', '#b42318', '#7a5af8'];

/** A line series of a time chart. */
export interface TimeSeries {
  label: string;
  values: (number | null)[];
  /** Drawn against the right-hand axis (rates). */
  right?: boolean;
  /** Bars instead of a line. */
  bars?: boolean;
}

const charts = new WeakMap<Element, uPlot>();

function mount(container: Element, opts: uPlot.Options, data: uPlot.AlignedData): void {
  charts.get(container)?.destroy();
  container.replaceChildren();
  container.setAttribute('aria-hidden', 'true');
  charts.set(container, new uPlot(opts, data, container as HTMLElement));
}

/** Removes the chart of `container`, if any. */
export function clearChart(container: Element | null): void {
  if (!container) return;
  charts.get(container)?.destroy();
  charts.delete(container);
  container.replaceChildren();
}

const width = (container: Element) => Math.max(280, Math.floor(container.getBoundingClientRect().width));

/**
 * Ticks of a day or week chart: bucket starts only (uPlot would pick hours such as 12pm between them),
 * at most about eight, labelled by `tz`'s date.
 */
function dateAxis(times: number[], tz: string): uPlot.Axis {
  const date = new Intl.DateTimeFormat('en-US', { timeZone: tz, month: 'numeric', day: 'numeric' });
  const step = Math.max(1, Math.ceil(times.length / 8));
  return {
    splits: () => times.filter((_, i) => i % step === 0).map((t) => t / 1000),
    values: (_u, splits) => splits.map((s) => date.format(s * 1000)),
  };
}

/**
 * A time chart: `times` are bucket starts (ms), shown on `tz`'s wall clock; hours for an hourly chart,
 * dates otherwise.
 */
export function timeChart(
  container: Element,
  times: number[],
  series: TimeSeries[],
  tz: string,
  hourly: boolean,
): void {
  const hasRight = series.some((s) => s.right);
  const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
  const opts: uPlot.Options = {
    width: width(container),
    height: 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      ...(hasRight ? { rate: { range: [0, 100] } } : {}),
    },
    axes: [
      hourly ? {} : dateAxis(times, tz),
      { label: 'count', size: 50 },
      ...(hasRight ? [{ scale: 'rate', side: 1, label: '%', grid: { show: false } } as uPlot.Axis] : []),
    ],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        ...(s.right ? { scale: 'rate' } : {}),
        ...(s.bars && bars ? { paths: bars, fill: `${COLORS[i % COLORS.length]}55` } : {}),
      })),
    ],
  };
  mount(container, opts, [times.map((t) => t / 1000), ...series.map((s) => s.values)]);
}

/** A histogram: one bar per bin, labelled by `labels`. */
export function histogramChart(container: Element, labels: string[], counts: number[], label: string): void {
  const bars = uPlot.paths.bars?.({ size: [0.7, 60], align: 0 });
  const xs = labels.map((_, i) => i);
  const opts: uPlot.Options = {
    width: width(container),
    height: 200,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: { time: false, range: [-0.5, labels.length - 0.5] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
    },
    axes: [
      {
        values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? (labels[v] ?? '') : '')),
        gap: 4,
        size: 40,
      },
      { size: 44 },
    ],
    series: [
      {},
      {
        label,
        stroke: COLORS[0],
        fill: `${COLORS[0]}88`,
        ...(bars ? { paths: bars } : {}),
        points: { show: false },
      },
    ],
  };
  // An empty bin draws nothing (uPlot would stroke a zero-height bar as a line).
  mount(container, opts, [xs, counts.map((c) => (c === 0 ? null : c))]);
}
