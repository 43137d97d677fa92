/**
 * The old design replayed on the same runs (bench/README.md, Identity accuracy): the FingerprintJS visitorId
 * was the device id, stored in localStorage; with nothing stored the SDK waited at most 200 ms for the
 * fingerprint, and a first request sent without an id got the cookie's id or a new server id (adopted
 * provisionally until the fingerprint finished); the collector recorded the server id as an alias that
 * reports never followed. Computed from what the run recorded: the visitorIds, the time of each request, when
 * each fingerprint finished, and the stores each visit started with.
 */
import type { BrowserRecord, Visit } from './run-log.js';
import type { DeviceSettings } from './sim-browser.js';

/** The old SDK's wait for the fingerprint before the first request, ms. */
export const OLD_WAIT_MS = 200;

/** A page view as the old design would have stored it. */
export interface OldPageView {
  eventId: string;
  browser: string;
  deviceId: string;
  /** The device id was a server id (the first request went before the fingerprint). */
  server: boolean;
  at: number;
}

/** A login as the old design would have linked it. */
export interface OldLink {
  browser: string;
  deviceId: string;
  userId: string;
  at: number;
}

/** The replay's outcome. */
export interface OldReplay {
  pageViews: OldPageView[];
  links: OldLink[];
  /** Visits whose fingerprint time was estimated (no evidence was sent in the run). */
  estimatedFingerprints: number;
  /** Per visit that started with nothing stored: the old id of its first and of its second page view. */
  mintedVisits: { browser: string; phase: string; first: OldPageView | null; next: OldPageView | null }[];
}

const settingsKey = (s: DeviceSettings) => JSON.stringify(s);

/** When the fingerprint of a visit finished (the evidence left the browser then), or null. */
function fingerprintDoneAt(v: Visit): number | null {
  return v.requests.find((r) => r.path === '/v1/device/fingerprint')?.start ?? null;
}

/** The first page view request of a visit. */
export function firstPageview(v: Visit) {
  return v.requests.find((r) => r.path === '/v1/events' && r.eventIds.length > 0) ?? null;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
};

/** Replays the old design over every browser's visits, in the order they happened. */
export function replayOldDesign(records: BrowserRecord[]): OldReplay {
  // The visitorId each settings produced, and how long fingerprints took at each CPU rate.
  const vidBySettings = new Map<string, string>();
  const durations = new Map<number, number[]>();
  for (const v of records.flatMap((r) => r.visits)) {
    const evidence = v.requests.find((r) => r.path === '/v1/device/fingerprint');
    const first = firstPageview(v);
    if (evidence?.visitorId) vidBySettings.set(settingsKey(v.settings), evidence.visitorId);
    if (evidence && first)
      durations.set(v.cpuRate, [...(durations.get(v.cpuRate) ?? []), evidence.start - first.start]);
  }
  let serverIds = 0;
  let estimated = 0;
  const pageViews: OldPageView[] = [];
  const links: OldLink[] = [];
  const mintedVisits: OldReplay['mintedVisits'] = [];
  for (const record of records) {
    let stored: string | null = null;
    let cookie: string | null = null;
    for (const v of record.visits) {
      if (!v.before.localStorage) stored = null;
      if (!v.before.cookie) cookie = null;
      const first = firstPageview(v);
      let fpDone: number | null = null;
      let vid: string | null = null;
      if (!stored) {
        vid =
          vidBySettings.get(settingsKey(v.settings)) ?? `unknown:${record.key}:${settingsKey(v.settings)}`;
        fpDone = fingerprintDoneAt(v);
        if (fpDone === null && first) {
          fpDone = first.start + median(durations.get(v.cpuRate) ?? [0]);
          estimated++;
        }
      }
      let provisional: string | null = null;
      const views: OldPageView[] = [];
      for (const req of v.requests) {
        if (req.status === null || req.status >= 300) continue;
        if (req.path !== '/v1/events' && req.path !== '/v1/identify') continue;
        // The old SDK's first request waited for the fingerprint, at most 200 ms.
        const at = req === first && fpDone !== null ? Math.min(fpDone, req.start + OLD_WAIT_MS) : req.start;
        let id: string;
        let server = false;
        if (!stored && fpDone !== null && at >= fpDone) stored = vid;
        if (stored) id = stored;
        else if (provisional) id = provisional;
        else if (cookie) id = provisional = cookie;
        else {
          id = provisional = `server-${++serverIds}`;
          server = true;
        }
        cookie = id;
        if (req.path === '/v1/identify') {
          if (req.userId) links.push({ browser: record.key, deviceId: id, userId: req.userId, at });
          continue;
        }
        for (const eventId of req.eventIds) {
          const pv = {
            eventId,
            browser: record.key,
            deviceId: id,
            server: server || id.startsWith('server-'),
            at,
          };
          views.push(pv);
          pageViews.push(pv);
        }
      }
      // A fingerprint that finished after the last request is still stored by the old SDK.
      if (!stored && vid && fpDone !== null) stored = vid;
      if (!v.before.localStorage) {
        mintedVisits.push({
          browser: record.key,
          phase: v.phase,
          first: views[0] ?? null,
          next: views[1] ?? null,
        });
      }
    }
  }
  return { pageViews, links, estimatedFingerprints: estimated, mintedVisits };
}
