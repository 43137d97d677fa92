/**
 * The accuracy figures (bench/README.md, Identity accuracy), computed the same way for both designs from
 * where each page view landed (the device a report counts it under) and the ground truth (which browser sent
 * it).
 */
import type { BrowserRecord } from './run-log.js';

/** A page view as a report counts it. */
export interface AttributedView {
  eventId: string;
  browser: string;
  /** The visit's phase. */
  phase: string;
  /** The id it was stored under. */
  raw: string;
  /** The device a report counts it under (the raw id resolved through the design's edges). */
  device: string;
  /** When it was sent, ms since the Unix epoch. */
  at: number;
}

/** A session as reports convert it. */
export interface ConvertedSession {
  id: string;
  userId: string | null;
  /** The browsers whose page views it holds. */
  browsers: string[];
}

/** A pair of distinct browsers that reports count as one device. */
export interface Merge {
  a: string;
  b: string;
  /** `twins` (identical, one network), `identical-apart` (identical, other networks), `distinct`. */
  kind: 'twins' | 'identical-apart' | 'distinct';
}

/** The figures for one design. */
export interface AccuracyFigures {
  merges: Merge[];
  /** Browsers counted as more than one device, by the reason the run gave them. */
  splits: Record<string, string[]>;
  /** Page views counted under another device than the browser's first, where the design means to join them. */
  orphans: number;
  orphanViews: number;
  falseConversions: number;
}

/** Pairs of browsers that share a device, classified. */
function mergesOf(records: BrowserRecord[], views: AttributedView[]): Merge[] {
  const byDevice = new Map<string, Set<string>>();
  for (const v of views) byDevice.set(v.device, (byDevice.get(v.device) ?? new Set()).add(v.browser));
  const rec = new Map(records.map((r) => [r.key, r]));
  const pairs = new Map<string, Merge>();
  for (const browsers of byDevice.values()) {
    const list = [...browsers].sort();
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = rec.get(list[i]!)!;
        const b = rec.get(list[j]!)!;
        const kind =
          a.settingsGroup !== b.settingsGroup
            ? 'distinct'
            : a.network === b.network
              ? 'twins'
              : 'identical-apart';
        pairs.set(`${a.key}|${b.key}`, { a: a.key, b: b.key, kind });
      }
    }
  }
  return [...pairs.values()];
}

/** The reason a browser's split is counted under. */
function splitClass(r: BrowserRecord): string {
  if (r.role === 'twin-b') return 'twin, shared fingerprint';
  if (r.crossSite) return `cross-site ${r.role}`;
  return r.role;
}

/** The figures of one design. */
export function accuracy(
  records: BrowserRecord[],
  views: AttributedView[],
  sessions: ConvertedSession[],
): AccuracyFigures {
  const byBrowser = new Map<string, AttributedView[]>();
  for (const v of views) byBrowser.set(v.browser, [...(byBrowser.get(v.browser) ?? []), v]);
  const splits: Record<string, string[]> = {};
  let orphans = 0;
  let orphanViews = 0;
  for (const r of records) {
    const list = (byBrowser.get(r.key) ?? []).sort((a, b) => a.at - b.at);
    const devices = new Set(list.map((v) => v.device));
    if (devices.size > 1) splits[splitClass(r)] = [...(splits[splitClass(r)] ?? []), r.key];
    // The design means to join every page view of a browser that keeps storage to its device, twins
    // apart (a shared fingerprint is never joined), and same-site (the cross-site case is reported apart).
    if (r.population === 'twins' || r.crossSite) continue;
    const home = list[0]?.device;
    const stray = list.filter((v) => v.device !== home);
    orphanViews += stray.length;
    orphans += new Set(stray.map((v) => v.raw)).size;
  }
  const userOf = new Map(records.map((r) => [r.key, r.userId]));
  let falseConversions = 0;
  for (const s of sessions) {
    if (s.userId === null) continue;
    for (const b of s.browsers) if (userOf.get(b) !== s.userId) falseConversions++;
  }
  return { merges: mergesOf(records, views), splits, orphans, orphanViews, falseConversions };
}

/**
 * Sessions and their conversions by the protocol's rule, on the devices of `views`: a device's session
 * ends at a login on it, and a login converts the device's sessions started before it and not yet
 * converted (docs/protocol.md, Conversion). Used for the old design's replay and for reports that
 * follow edges.
 */
export function convertByRule(
  views: AttributedView[],
  links: { device: string; userId: string; at: number }[],
): ConvertedSession[] {
  const byDevice = new Map<string, AttributedView[]>();
  for (const v of views) byDevice.set(v.device, [...(byDevice.get(v.device) ?? []), v]);
  const sessions: ConvertedSession[] = [];
  for (const [device, list] of byDevice) {
    const own = links.filter((l) => l.device === device).sort((a, b) => a.at - b.at);
    const sorted = list.sort((a, b) => a.at - b.at);
    let index = 0;
    for (let k = 0; k <= own.length; k++) {
      const until = own[k]?.at ?? Number.POSITIVE_INFINITY;
      const inSession: AttributedView[] = [];
      while (index < sorted.length && sorted[index]!.at <= until) inSession.push(sorted[index++]!);
      if (inSession.length === 0) continue;
      sessions.push({
        id: `${device}#${k}`,
        userId: own[k]?.userId ?? null,
        browsers: [...new Set(inSession.map((v) => v.browser))],
      });
    }
  }
  return sessions;
}
