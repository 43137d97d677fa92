/**
 * Row "the oracle" (issue 19, Build 6): does the evidence route's answer time tell a registration from
 * a join? Direct HTTP from this process (no browser), as an attacker would send it. Each sample has a
 * /24 of its own: an owner id is minted fresh there (a page view with `X-Device-Fresh: 1`) and its
 * evidence registers a visitorId no one else sends (not timed; every owner first). Then two probes, in random order, each
 * an id minted fresh on that network and its evidence: one with a new visitorId (a new entry:
 * `registered`), one with the owner's (joined to the owner: `joined`). So both kinds take the same
 * steps, at the same moments of the run. Timed from the request leaving to the answer's body read,
 * keep-alive connections, a few samples in flight at once. The joins are checked in Postgres afterwards
 * (each joined id's `join` edge to its owner), so the two groups are what they claim to be.
 */
import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@devicelink/protocol';
import type pg from 'pg';

/** A person's Chrome: the bot filter must not refuse the evidence. */
const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

/** What the oracle row measured. */
export interface OracleFigures {
  pairs: number;
  /** Answer times, ms. */
  registeredMs: number[];
  joinedMs: number[];
  /** Answers other than 202 `{"status":"received"}`. */
  otherAnswers: number;
  /** Second ids whose join edge to their owner is in Postgres. */
  joinsVerified: number;
  joinedIds: { owner: string; joiner: string }[];
}

const newId = () => randomBytes(16).toString('base64url');

/**
 * Sends the samples to the collector at `base` (`http://127.0.0.1:<port>`): the owners `setupLanes` at
 * a time, then the probes `probeLanes` samples at a time (few: the probes' own load adds to the answer
 * times being compared, and an attacker probes one visitorId at a time).
 */
export async function measureOracle(
  base: string,
  pairs: number,
  { setupLanes = 4, probeLanes = 2 } = {},
): Promise<OracleFigures> {
  const figures: OracleFigures = {
    pairs,
    registeredMs: [],
    joinedMs: [],
    otherAnswers: 0,
    joinsVerified: 0,
    joinedIds: [],
  };
  const headers = (address: string, id: string, fresh: boolean) => ({
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'accept-language': 'en-US',
    'x-forwarded-for': address,
    'x-device-fingerprint': id,
    ...(fresh ? { 'x-device-fresh': '1' } : {}),
  });
  const mint = async (address: string, id: string) => {
    const res = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: headers(address, id, true),
      body: JSON.stringify({
        events: [{ type: 'pageview', url: 'http://app.example.com/oracle', id: uuidv7(), ts: Date.now() }],
      }),
    });
    await res.arrayBuffer();
    if (res.status !== 202) throw new Error(`oracle: minting answered ${res.status}`);
  };
  const evidence = async (address: string, id: string, visitorId: string) => {
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/device/fingerprint`, {
      method: 'POST',
      headers: headers(address, id, false),
      body: JSON.stringify({ visitorId, deviceId: id }),
    });
    const body = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 202 || body !== '{"status":"received"}') figures.otherAnswers++;
    return ms;
  };
  const lanes = async (n: number, work: (k: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (next < pairs) await work(next++);
      }),
    );
  };
  // 10.9.0.0/16 and 10.10.0.0/16: a /24 per sample (new-entry caps count per /24 and per /16).
  const network = (k: number) => `10.${9 + Math.floor(k / 250)}.${k % 250}`;
  // The owners first, untimed, a few at a time.
  const owners = Array.from({ length: pairs }, () => ({
    id: newId(),
    visitorId: randomBytes(16).toString('hex'),
  }));
  await lanes(setupLanes, async (k) => {
    await mint(`${network(k)}.1`, owners[k]!.id);
    await evidence(`${network(k)}.1`, owners[k]!.id, owners[k]!.visitorId);
  });
  // Then the probes, timed, `probeLanes` samples at a time.
  await lanes(probeLanes, async (k) => {
    const probe = async (address: string, vid: string) => {
      const id = newId();
      await mint(address, id);
      return { id, ms: await evidence(address, id, vid) };
    };
    const register = async () =>
      figures.registeredMs.push((await probe(`${network(k)}.3`, randomBytes(16).toString('hex'))).ms);
    const join = async () => {
      const { id, ms } = await probe(`${network(k)}.2`, owners[k]!.visitorId);
      figures.joinedMs.push(ms);
      figures.joinedIds.push({ owner: owners[k]!.id, joiner: id });
    };
    if (Math.random() < 0.5) {
      await register();
      await join();
    } else {
      await join();
      await register();
    }
  });
  return figures;
}

/** Counts the second ids whose join edge to their owner Postgres holds. */
export async function verifyOracleJoins(db: pg.Client, figures: OracleFigures): Promise<void> {
  const { rows } = await db.query(
    `select device_id, other_id from device_edges where kind = 'join' and device_id = any($1)`,
    [figures.joinedIds.map((j) => j.joiner)],
  );
  const edges = new Set(rows.map((r) => `${r.device_id}|${r.other_id}`));
  figures.joinsVerified = figures.joinedIds.filter((j) => edges.has(`${j.joiner}|${j.owner}`)).length;
}

/** The median of `xs`, or null. */
export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
