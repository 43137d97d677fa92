/**
 * Turns the run's records, the collector's view and the old design's replay into the section's
 * figures: the attribution of every page view under both designs, then the targets (bench/README.md, Identity
 * accuracy).
 */
import { type AccuracyFigures, type AttributedView, accuracy, convertByRule } from './accuracy.js';
import type { CollectorView } from './collector-view.js';
import { firstPageview, replayOldDesign } from './old-design-replay.js';
import type { BrowserRecord, Visit, WireRequest } from './run-log.js';

/** Every page view the collector accepted, with its browser, phase and time. */
export function acceptedViews(records: BrowserRecord[]) {
  return records.flatMap((r) =>
    r.visits.flatMap((v) =>
      v.requests
        .filter((q) => q.path === '/v1/events' && q.status === 202)
        .flatMap((q) =>
          q.eventIds.map((eventId) => ({ eventId, browser: r.key, phase: v.phase, at: q.start })),
        ),
    ),
  );
}

/** Every raw id a browser sent or was answered with. */
export function rawIdsOf(records: BrowserRecord[]): string[] {
  const ids = new Set<string>();
  for (const q of records.flatMap((r) => r.visits.flatMap((v) => v.requests))) {
    if (q.sentId) ids.add(q.sentId);
    if (q.echoed) ids.add(q.echoed);
  }
  return [...ids];
}

/** Our design: each page view under the device reports resolve its stored id to. */
export function oursAttributed(records: BrowserRecord[], view: CollectorView): AttributedView[] {
  return acceptedViews(records).flatMap((v) => {
    const raw = view.pageViews.get(v.eventId)?.deviceId;
    return raw ? [{ ...v, raw, device: view.canonical.get(raw) ?? raw }] : [];
  });
}

/** Our design's sessions as stored (raw ids; conversions by the persister). */
function oursStoredSessions(records: BrowserRecord[], view: CollectorView) {
  const browsers = new Map<string, Set<string>>();
  for (const v of acceptedViews(records)) {
    const sid = view.pageViews.get(v.eventId)?.sessionId;
    if (sid) browsers.set(sid, (browsers.get(sid) ?? new Set()).add(v.browser));
  }
  return [...browsers].map(([id, set]) => ({
    id,
    userId: view.sessions.get(id)?.convertedUserId ?? null,
    browsers: [...set],
  }));
}

/** Our design's sessions as a report following the edges would convert them (logins on any joined id). */
export function oursResolvedSessions(records: BrowserRecord[], view: CollectorView) {
  const views = oursAttributed(records, view);
  const links = view.links.map((l) => ({
    device: view.canonical.get(l.deviceId) ?? l.deviceId,
    userId: l.userId,
    at: l.linkedAt,
  }));
  return convertByRule(views, links);
}

/** A visit after both stores were cleared, and whether its new id was joined to the browser's device. */
export interface JoinCase {
  browser: string;
  cpuRate: number;
  crossSite: boolean;
  /** The browser's visitorId was the only one of its network. */
  uniqueOnNetwork: boolean;
  /** Joined in the reports at the end of the run. */
  joined: boolean;
  /** Joined before the browser's next request (the evidence was answered before it left). */
  joinedByNext: boolean;
  /** From the first page view to the evidence's answer, ms. */
  latencyMs: number | null;
  /** The old design: its next page view was under the browser's device. */
  oldByNext: boolean;
  /** The old design: the first page view went under a server id. */
  oldFirstOrphaned: boolean;
  /** The new id after the clearing (null when the visit sent no page view). */
  mintedId: string | null;
}

const evidenceOf = (v: Visit): WireRequest | undefined =>
  v.requests.find((q) => q.path === '/v1/device/fingerprint' && q.status !== null);

/** The joins after both stores were cleared, for both designs. */
export function joinCases(records: BrowserRecord[], view: CollectorView): JoinCase[] {
  const ours = oursAttributed(records, view);
  const old = replayOldDesign(records);
  const vidOf = (r: BrowserRecord) => r.visits.map(evidenceOf).find((q) => q?.visitorId)?.visitorId ?? null;
  const cases: JoinCase[] = [];
  for (const r of records.filter((x) => x.role === 'both-cleared')) {
    const visit = r.visits.find((v) => v.phase === 'cleared');
    if (!visit) continue;
    const mine = ours.filter((v) => v.browser === r.key).sort((a, b) => a.at - b.at);
    const home = mine[0]?.device;
    const inVisit = mine.filter((v) => v.phase === 'cleared');
    const joined = inVisit.length > 0 && inVisit.every((v) => v.device === home);
    const first = firstPageview(visit);
    const second = visit.requests.filter((q) => q.path === '/v1/events' && q.eventIds.length > 0)[1];
    const evidence = evidenceOf(visit);
    // The join is decided before the answer starts (the renderer, throttled at 6x, may read it later).
    const answered = evidence?.status === 202 ? evidence.answeredAt : null;
    const vid = vidOf(r);
    const sameNetwork = records.filter((x) => x.network === r.network && x.key !== r.key);
    const oldMine = old.pageViews.filter((v) => v.browser === r.key).sort((a, b) => a.at - b.at);
    const oldHome = oldMine.find((v) => !v.server)?.deviceId;
    const minted = old.mintedVisits.find((m) => m.browser === r.key && m.phase === 'cleared');
    cases.push({
      browser: r.key,
      cpuRate: visit.cpuRate,
      crossSite: r.crossSite,
      uniqueOnNetwork: vid !== null && sameNetwork.every((x) => vidOf(x) !== vid),
      joined,
      joinedByNext: joined && answered !== null && second !== undefined && answered <= second.start,
      latencyMs: answered !== null && first ? answered - first.start : null,
      oldByNext: minted?.next?.deviceId === oldHome,
      oldFirstOrphaned: minted?.first?.server === true,
      mintedId: inVisit[0]?.raw ?? null,
    });
  }
  return cases;
}

/** Both designs' accuracy figures on the same run. */
export function bothDesigns(
  records: BrowserRecord[],
  view: CollectorView,
): { ours: AccuracyFigures; old: AccuracyFigures; oldEstimated: number } {
  const ours = accuracy(records, oursAttributed(records, view), oursStoredSessions(records, view));
  const replay = replayOldDesign(records);
  const oldViews: AttributedView[] = replay.pageViews.map((v) => ({
    eventId: v.eventId,
    browser: v.browser,
    phase: '',
    raw: v.deviceId,
    device: v.deviceId,
    at: v.at,
  }));
  const oldSessions = convertByRule(
    oldViews,
    replay.links.map((l) => ({ device: l.deviceId, userId: l.userId, at: l.at })),
  );
  return { ours, old: accuracy(records, oldViews, oldSessions), oldEstimated: replay.estimatedFingerprints };
}
