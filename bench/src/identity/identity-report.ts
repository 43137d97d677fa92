/**
 * The identity benchmark's section: the rows of both designs side by side, the identity targets
 * and the notes (fingerprint and join times, the visitorIds of the settings groups).
 */
import { fmt, pct, type SectionResult, type Target, target } from '../report.js';
import { acceptedViews, type bothDesigns, type joinCases } from './identity-figures.js';
import { firstPageview, OLD_WAIT_MS, type replayOldDesign } from './old-design-replay.js';
import type { BrowserRecord } from './run-log.js';

/** What the merge window looked like (after the second twins arrived and logged in). */
export interface WindowFigures {
  pairs: number;
  /** Twin pairs whose second browser was joined to the first's device. */
  joined: number;
  /** Sessions of a browser that reports following the join would convert to another browser's user. */
  falseConversionsResolved: number;
  /** The same in the stored figures (raw ids). */
  falseConversionsStored: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : null;
};

/** What the section is made from. */
export interface ReportInput {
  records: BrowserRecord[];
  ours: ReturnType<typeof bothDesigns>['ours'];
  old: ReturnType<typeof bothDesigns>['old'];
  oldEstimated: number;
  joins: ReturnType<typeof joinCases>;
  window: WindowFigures | null;
  replay: ReturnType<typeof replayOldDesign>;
  notes: string[];
  started: number;
  edges: number;
}

/** Builds the section of benchmark 9. */
export function report(input: ReportInput): SectionResult {
  const { records, ours, old, joins, window, replay, notes } = input;
  const count = (splits: Record<string, string[]>, keys: string[]) =>
    keys.reduce((n, k) => n + (splits[k]?.length ?? 0), 0);
  const kept = ['return', 'screen-changed', 'timezone-changed', 'locale-changed'];
  const oneCleared = ['ls-cleared', 'cookies-cleared'];
  const crossOne = ['cross-site ls-cleared', 'cross-site cookies-cleared'];
  const merges = (f: typeof ours, kind: string) => f.merges.filter((m) => m.kind === kind).length;
  const rate = (list: typeof joins, pick: (j: (typeof joins)[number]) => boolean) =>
    list.length ? list.filter(pick).length / list.length : null;
  const eligible = joins.filter((j) => j.uniqueOnNetwork);
  const at1 = eligible.filter((j) => j.cpuRate === 1 && !j.crossSite);
  const at6 = eligible.filter((j) => j.cpuRate > 1 && !j.crossSite);
  const cross = eligible.filter((j) => j.crossSite);
  const latency = (list: typeof joins) => list.map((j) => j.latencyMs).filter((x): x is number => x !== null);

  // First visits: how long the first page view and the fingerprint took, and the old design's fallback.
  const firsts = records.flatMap((r) =>
    r.visits.filter((v) => v.phase === 'first' || v.phase === 'twin-arrives'),
  );
  const fpDelay = (rateFilter: (n: number) => boolean) =>
    firsts
      .filter((v) => rateFilter(v.cpuRate))
      .map((v) => {
        const first = firstPageview(v);
        const ev = v.requests.find((q) => q.path === '/v1/device/fingerprint');
        return first && ev ? ev.start - first.start : null;
      })
      .filter((x): x is number => x !== null);
  const fp1 = fpDelay((n) => n === 1);
  const fp6 = fpDelay((n) => n > 1);
  const oldFirstOrphans = replay.mintedVisits.filter((m) => m.phase === 'first' && m.first?.server).length;
  const oldFirsts = replay.mintedVisits.filter((m) => m.phase === 'first').length;
  const oursFirstServer = records
    .flatMap((r) => r.visits.filter((v) => v.phase === 'first'))
    .filter((v) => !firstPageview(v)?.sentId).length;

  // Groups checked by the visitorId they actually produced.
  const vids = new Map<string, Set<string>>();
  for (const r of records) {
    for (const v of r.visits.filter((x) => x.phase === 'first' || x.phase === 'twin-arrives')) {
      const id = v.requests.find((q) => q.visitorId)?.visitorId;
      if (id) vids.set(r.settingsGroup, (vids.get(r.settingsGroup) ?? new Set()).add(id));
    }
  }
  const groups = [...vids.entries()];
  const oneEach = groups.every(([, s]) => s.size === 1);
  const allVids = groups.flatMap(([, s]) => [...s]);
  const distinctAcross = new Set(allVids).size === allVids.length;
  if (!oneEach)
    notes.push('a group of identical settings produced more than one visitorId: see figures.visitorIds');
  if (!distinctAcross) notes.push('two groups of different settings produced the same visitorId');
  if (groups.length === 0)
    notes.push('no fingerprint evidence reached the collector: the join figures are not measured');

  const rows: Record<string, string | number>[] = [
    {
      figure: 'false merges: identical browsers, different networks',
      ours: merges(ours, 'identical-apart'),
      'old design': merges(old, 'identical-apart'),
      target: '0',
    },
    {
      figure: 'false merges: twins on one network, both visited again',
      ours: merges(ours, 'twins'),
      'old design': merges(old, 'twins'),
      target: '0',
    },
    {
      figure: 'false merges: distinct browsers',
      ours: merges(ours, 'distinct'),
      'old design': merges(old, 'distinct'),
      target: '0',
    },
    {
      figure: 'splits: storage kept (return, screen, time zone, locale)',
      ours: count(ours.splits, kept),
      'old design': count(old.splits, kept),
      target: '0',
    },
    {
      figure: 'splits: one store cleared, same site',
      ours: count(ours.splits, oneCleared),
      'old design': count(old.splits, oneCleared),
      target: '0',
    },
    {
      figure: 'splits: one store cleared, cross-site collector',
      ours: count(ours.splits, crossOne),
      'old design': count(old.splits, crossOne),
      target: 'apart',
    },
    {
      figure: 'splits: both stores cleared (same site)',
      ours: count(ours.splits, ['both-cleared']),
      'old design': count(old.splits, ['both-cleared']),
      target: '-',
    },
    {
      figure: 'splits: twin cleared both stores (shared fingerprint)',
      ours: count(ours.splits, ['twin, shared fingerprint']),
      'old design': count(old.splits, ['twin, shared fingerprint']),
      target: 'by design',
    },
    {
      figure: `joins after both cleared by next request, 1x (n=${at1.length})`,
      ours: pct(rate(at1, (j) => j.joinedByNext)),
      'old design': pct(rate(at1, (j) => j.oldByNext)),
      target: '≥ 95%',
    },
    {
      figure: `joins after both cleared by next request, 6x CPU (n=${at6.length})`,
      ours: pct(rate(at6, (j) => j.joinedByNext)),
      'old design': pct(rate(at6, (j) => j.oldByNext)),
      target: '≥ 95%',
    },
    {
      figure: 'joins after both cleared, by the end of the run (1x and 6x)',
      ours: pct(rate([...at1, ...at6], (j) => j.joined)),
      'old design': '-',
      target: '-',
    },
    {
      figure: `joins after both cleared, cross-site (n=${cross.length})`,
      ours: pct(rate(cross, (j) => j.joinedByNext)),
      'old design': pct(rate(cross, (j) => j.oldByNext)),
      target: 'apart',
    },
    {
      figure: 'orphans (ids never joined to the browser, same site, not twins)',
      ours: ours.orphans,
      'old design': old.orphans,
      target: '0',
    },
    { figure: 'orphaned page views', ours: ours.orphanViews, 'old design': old.orphanViews, target: '0' },
    {
      figure: 'false conversions, stored figures (whole run)',
      ours: ours.falseConversions,
      'old design': old.falseConversions,
      target: '-',
    },
    {
      figure: 'false conversions in the merge window, reports following joins',
      ours: window?.falseConversionsResolved ?? 'n/a',
      'old design': old.falseConversions,
      target: '-',
    },
    {
      figure: 'residual risk: twin pairs joined before the first twin returns',
      ours: window ? `${window.joined} of ${window.pairs}` : 'n/a',
      'old design': window ? `${window.pairs} of ${window.pairs} (for good)` : 'n/a',
      target: 'measured',
    },
    {
      figure: 'first page views without an id (server id)',
      ours: `${oursFirstServer} of ${firsts.filter((v) => v.phase === 'first').length}`,
      'old design': `${oldFirstOrphans} of ${oldFirsts}`,
      target: '0',
    },
  ];
  const targets: Target[] = [
    target(
      'false merges, identical browsers on different networks',
      merges(ours, 'identical-apart'),
      0,
      '',
      '<=',
    ),
    target('false merges, twins on one network once both visited again', merges(ours, 'twins'), 0, '', '<='),
    target(
      'splits with storage kept (screen, time zone, locale changed)',
      count(ours.splits, kept),
      0,
      '',
      '<=',
    ),
    target('splits with one store cleared, same-site collector', count(ours.splits, oneCleared), 0, '', '<='),
    target(
      'joins after both stores cleared by the next request, 1x',
      pctValue(rate(at1, (j) => j.joinedByNext)),
      95,
      '%',
      '>=',
    ),
    target(
      'joins after both stores cleared by the next request, 6x CPU',
      pctValue(rate(at6, (j) => j.joinedByNext)),
      95,
      '%',
      '>=',
    ),
    target('orphans', ours.orphans, 0, '', '<='),
  ];
  notes.push(
    `${records.length} browsers, ${records.reduce((n, r) => n + r.visits.length, 0)} visits, ${acceptedViews(records).length} page views; ${input.edges} edges in the admin details`,
    `fingerprint (first page view to evidence sent): 1x p50 ${fmt(quantile(fp1, 0.5))} ms, p95 ${fmt(quantile(fp1, 0.95))} ms, max ${fmt(quantile(fp1, 1))} ms; 6x p50 ${fmt(quantile(fp6, 0.5))} ms, max ${fmt(quantile(fp6, 1))} ms (the old SDK waited ${OLD_WAIT_MS} ms)`,
    `join latency after both stores cleared (first page view to the evidence's answer): 1x p50 ${fmt(quantile(latency(at1), 0.5))} ms, max ${fmt(quantile(latency(at1), 1))} ms; 6x p50 ${fmt(quantile(latency(at6), 0.5))} ms, max ${fmt(quantile(latency(at6), 1))} ms; the next request left after a 5 s dwell`,
    `settings groups checked by visitorId: ${groups.length} groups, one visitorId each: ${oneEach ? 'yes' : 'NO'}, different groups different visitorIds: ${distinctAcross ? 'yes' : 'NO'}`,
    `old design: ${input.oldEstimated} fingerprint times estimated (visits whose minted id yielded to the cookie send no evidence)`,
  );
  return {
    name: 'identity',
    title: '9. Identity accuracy in real Chromium: ours vs the old design replayed on the same run',
    figures: {
      browsers: records.length,
      ours,
      old,
      joins,
      window,
      fingerprintMs: { x1: fp1, x6: fp6 },
      visitorIds: Object.fromEntries(groups.map(([g, s]) => [g, [...s]])),
    },
    rows,
    targets,
    notes,
    seconds: (performance.now() - input.started) / 1000,
  };
}

const pctValue = (ratio: number | null) => (ratio === null ? null : ratio * 100);
