/**
 * Row "standing joins between two live identical browsers on one network" (issue 19): pairs of
 * identical browsers (one settings group, so one visitorId), each pair on a /24 of its own, on the
 * bench page (same-site collector).
 *
 * - `first-visits`: A's first visit registers the fingerprint; B's first visit is joined to A's device
 *   (the twin rule's window); then A visits again, then B.
 * - `after-clear` (the issue's case): A's first visit; A clears both stores (no page open) and is
 *   joined back; B's first visit takes over the entry's claim (A's new id gives way); then A visits
 *   again, then B.
 *
 * Judged in Postgres once the queue drained: a join edge between the two browsers' ids stands unless
 * a revocation of joins to its target came at or after it (docs/protocol.md, Edges). The target is
 * none standing once both visited again; the joins made in the window are reported beside it (they
 * show the rule was exercised), and whether the admin device detail still puts both browsers on one
 * device.
 */

import type pg from 'pg';
import type { Browser } from 'playwright-core';
import { adminCanonical } from './collector-view.js';
import type { Visit } from './run-log.js';
import { type DeviceSettings, newSimBrowser } from './sim-browser.js';
import { clearStores, runVisit } from './visit.js';

export type TwinVariant = 'first-visits' | 'after-clear';

/** One pair, as driven. */
export interface TwinPairDriven {
  variant: TwinVariant;
  network: string;
  /** Every raw id each browser sent or was answered, in order. */
  aIds: string[];
  bIds: string[];
  visits: { browser: 'a' | 'b'; phase: string; idAfter: string | null; evidence: boolean }[];
  error?: string;
}

/** One pair, judged. */
export interface TwinPair extends Omit<TwinPairDriven, 'visits'> {
  visits: TwinPairDriven['visits'];
  /** A join between the two browsers was made in the window (B's id joined to A's device). */
  joinedInWindow: boolean;
  /** A's new id joined back to A's device after its clear (the after-clear case's first step). */
  rejoinedAfterClear: boolean | null;
  /** Joins between the two browsers standing at the end. */
  standing: number;
  /** The admin device detail resolves both browsers' last ids to one device. */
  mergedInReports: boolean;
}

/** Where the pairs' page is. */
export interface TwinEnv {
  browser: Browser;
  appUrl: string;
  blankUrl: string;
  collectorUrl: string;
  adminToken: string;
  settings: DeviceSettings;
}

const idsOf = (visits: Visit[]) => {
  const ids: string[] = [];
  for (const q of visits.flatMap((v) => v.requests)) {
    for (const id of [q.sentId, q.echoed]) if (id && !ids.includes(id)) ids.push(id);
  }
  return ids;
};

/** Drives one pair on `10.8.<index>`. */
export async function twinPair(env: TwinEnv, variant: TwinVariant, index: number): Promise<TwinPairDriven> {
  const network = `10.8.${index}`;
  const a = await newSimBrowser(env.browser, env.settings, `${network}.10`);
  const b = await newSimBrowser(env.browser, env.settings, `${network}.11`);
  const visits: { a: Visit[]; b: Visit[] } = { a: [], b: [] };
  const log: TwinPairDriven['visits'] = [];
  const visit = async (who: 'a' | 'b', phase: string) => {
    const v = await runVisit(who === 'a' ? a : b, `twin-pair-${index}-${who}`, {
      phase,
      appUrl: env.appUrl,
      before: { localStorage: phase !== 'first' && phase !== 'cleared', cookie: phase !== 'first' },
      navigations: 0,
      evidenceTimeoutMs: 30_000,
    });
    visits[who].push(v);
    log.push({
      browser: who,
      phase,
      idAfter: v.idAfter,
      evidence: v.requests.some((q) => q.path === '/v1/device/fingerprint' && q.status === 202),
    });
  };
  try {
    await visit('a', 'first');
    if (variant === 'after-clear') {
      await clearStores(a, env.blankUrl, { localStorage: true, cookies: true });
      await visit('a', 'cleared');
    }
    await visit('b', 'first');
    await visit('a', 'again');
    await visit('b', 'again');
    return { variant, network, aIds: idsOf(visits.a), bIds: idsOf(visits.b), visits: log };
  } catch (err) {
    return {
      variant,
      network,
      aIds: idsOf(visits.a),
      bIds: idsOf(visits.b),
      visits: log,
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    await a.context.close().catch(() => {});
    await b.context.close().catch(() => {});
  }
}

/** Judges the pairs on what Postgres holds (after the queue drained) and the admin device detail. */
export async function judgeTwinPairs(
  db: pg.Client,
  env: Pick<TwinEnv, 'collectorUrl' | 'adminToken'>,
  pairs: TwinPairDriven[],
): Promise<TwinPair[]> {
  const all = pairs.flatMap((p) => [...p.aIds, ...p.bIds]);
  const { rows } = await db.query(
    `select e.device_id, e.other_id, e.first_seen, r.revoked_until
     from device_edges e left join fingerprint_revocations r on r.device_id = e.other_id
     where e.kind = 'join' and (e.device_id = any($1) or e.other_id = any($1))`,
    [all],
  );
  const joins = rows.map((r) => ({
    from: r.device_id as string,
    to: r.other_id as string,
    revoked: r.revoked_until !== null && new Date(r.revoked_until) >= new Date(r.first_seen),
  }));
  const judged: TwinPair[] = [];
  for (const p of pairs) {
    const between = joins.filter(
      (j) =>
        (p.aIds.includes(j.from) && p.bIds.includes(j.to)) ||
        (p.bIds.includes(j.from) && p.aIds.includes(j.to)),
    );
    const aLast = [...p.visits].reverse().find((v) => v.browser === 'a')?.idAfter ?? null;
    const bLast = [...p.visits].reverse().find((v) => v.browser === 'b')?.idAfter ?? null;
    const [ca, cb] = await Promise.all(
      [aLast, bLast].map((id) => (id ? adminCanonical(env.collectorUrl, env.adminToken, id) : null)),
    );
    const aFirst = p.visits.find((v) => v.browser === 'a' && v.phase === 'first')?.idAfter;
    const aCleared = p.visits.find((v) => v.browser === 'a' && v.phase === 'cleared')?.idAfter;
    judged.push({
      ...p,
      joinedInWindow: between.length > 0,
      rejoinedAfterClear:
        p.variant === 'after-clear' ? joins.some((j) => j.from === aCleared && j.to === aFirst) : null,
      standing: between.filter((j) => !j.revoked).length,
      mergedInReports: ca !== null && ca !== undefined && ca === cb,
    });
  }
  return judged;
}
