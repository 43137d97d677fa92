/**
 * Faults (issue 22, Targets): what a fault costs the pipeline, with the targets fixed here.
 *
 * (a) A poisoned entry among 10,000 queued: a persister process (`persist`) held by SIGSTOP while
 *     10,000 page views are appended straight onto the 64 streams, with (or, alternately, without) one
 *     record Postgres refuses (a NUL in its URL) in the middle; timed from SIGCONT until the 10,000 clean
 *     rows are in Postgres. The delay is the poisoned drain less the clean one of the same pair (median of
 *     the pairs): the isolation's cost (the pass written again by halves of its partitions, then the
 *     poisoned partition's entries by halves). Target: under 2 s.
 * (b) Redis at `maxmemory` with `noeviction`, on a redis-server of the bench's own: an ingest-only
 *     collector takes page views while the persister cannot reach Postgres (a TCP proxy in between, cut),
 *     until Redis refuses writes (the collector answers 503); a second persister process is started
 *     against the full Redis; then Postgres is reachable again and the queue must be empty within 10 s,
 *     every accepted page view in Postgres.
 * (c) A persister killed under load: two persister processes, an ingest-only collector at a fixed rate;
 *     one persister gets SIGKILL; timed until everything it held (its pending entries) and everything
 *     queued in its partitions up to the kill is persisted; a replacement starts and the next run kills
 *     the other. Target: within 15 s in 5 of 5 runs (lease time 10 s, the default).
 */
import { createRedisStore } from '@devicelink/fastify';
import { appendForTest } from '@devicelink/fastify/testing';
import { type PageviewRecord, uuidv7 } from '@devicelink/protocol';
import {
  deleteKeys,
  type RunningProcess,
  startCollectorProcess,
  startRedisServer,
  startTcpProxy,
  throughProxy,
  uniquePrefix,
} from '@devicelink/test-env';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { BenchContext } from './bench-context.js';
import { devicePool } from './load.js';
import {
  countByOwner,
  lastIds,
  leaseOwners,
  memberOf,
  pendingOf,
  queuedUpTo,
  secondsUntil,
  stillQueued,
  streamsOf,
} from './persister-probes.js';
import { queueDepth, waitDrained } from './queue-depth.js';
import { fmt, type SectionResult, type Target, target } from './report.js';

/** Entries queued around the poisoned one. */
const POISON_BACKLOG = 10_000;
/** Target: the delay one poisoned entry adds before the clean ones commit. */
const POISON_DELAY_TARGET_MS = 2_000;
/** Target: the queue empty this long after Postgres is reachable again, with Redis full. */
const FULL_REDIS_DRAIN_TARGET_S = 10;
/** Target: what a killed persister held, persisted within this. */
const KILL_TARGET_S = 15;
/** Kill runs, all of which must meet the target. */
const KILL_RUNS = 5;
/** Fixed ingest rate during the kill runs, page views per second. */
const KILL_LOAD_RATE = 200;
const LEASE_SECONDS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

function pageview(deviceId: string, url: string, now: number): PageviewRecord {
  return {
    kind: 'pageview',
    eventId: uuidv7(now),
    deviceId,
    userId: null,
    sessionId: null,
    source: 'header',
    visitorHash: null,
    userAgent: 'bench',
    url,
    referrer: null,
    clientTs: null,
    serverTs: now,
  };
}

/** A persister process (`node dist/server.js persist`) on `env` (at info: its ready line is one). */
function startPersister(env: Record<string, string>): Promise<RunningProcess> {
  return startCollectorProcess(
    { LOG_LEVEL: 'info', PERSISTER_LEASE_SECONDS: String(LEASE_SECONDS), ...env },
    { command: 'persist', inheritEnv: true },
  );
}

/**
 * A fixed-rate page-view load on `url` by `workers` keep-alive clients until `stop()`: each 202 that
 * accepted its page view keeps the event id.
 */
function steadyLoad(url: string, rate: number, devices: readonly string[], workers = 10) {
  let running = true;
  const accepted: string[] = [];
  const statuses = new Map<number, number>();
  const interval = (1000 * workers) / rate;
  const worker = async () => {
    let next = performance.now();
    while (running) {
      const id = uuidv7();
      const device = devices[(Math.random() * devices.length) | 0]!;
      let status = -1;
      try {
        const res = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-device-fingerprint': device },
          body: JSON.stringify({ events: [{ type: 'pageview', url: 'https://shop.example/fault', id }] }),
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        const body = (await res.json()) as { accepted?: number };
        if (status === 202 && body.accepted === 1) accepted.push(id);
      } catch {
        // Refused or timed out: not accepted.
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      else next = performance.now();
    }
  };
  const done = Promise.all(Array.from({ length: workers }, worker));
  return {
    accepted,
    statuses,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Rows of `ids` in page_views, and how many of them more than once. */
async function rowsOf(client: pg.Client, ids: readonly string[]): Promise<{ found: number; extra: number }> {
  const { rows } = await client.query<{ found: number; extra: number }>(
    `select count(distinct event_id)::int as found, (count(*) - count(distinct event_id))::int as extra
     from page_views where event_id = any($1::uuid[])`,
    [ids],
  );
  return rows[0]!;
}

/** (a) One poisoned entry among 10,000: the delay it adds. */
async function poisonedEntry(ctx: BenchContext, client: pg.Client) {
  const pairs = ctx.full ? 5 : 3;
  const prefix = uniquePrefix('bench-faults-poison');
  const redis = new Redis(ctx.redisUrl);
  const store = await createRedisStore(redis, { prefix });
  const devices = devicePool(2_000);
  const persister = await startPersister({
    REDIS_URL: ctx.redisUrl,
    REDIS_KEY_PREFIX: prefix,
    DATABASE_URL: ctx.databaseUrl,
  });
  const trials: { poisoned: boolean; ms: number; deadLetters: number }[] = [];
  try {
    await secondsUntil(
      async () => countByOwner(await leaseOwners(redis, prefix)).get(null) === undefined,
      60_000,
    );
    for (let i = 0; i < pairs * 2; i++) {
      const poisoned = i % 2 === 1;
      const url = `/fault-poison/${i}`;
      const now = Date.now();
      const records = Array.from({ length: POISON_BACKLOG }, (_, j) =>
        pageview(devices[j % devices.length]!, url, now),
      );
      const lettersBefore = await deadLetterCount(client);
      persister.child.kill('SIGSTOP');
      try {
        for (let j = 0; j < records.length; j += 500) {
          await Promise.all(
            records.slice(j, j + 500).map((r, k) => {
              const batch = [r];
              // In the middle of the backlog: a URL with a NUL, which Postgres text refuses.
              if (poisoned && j + k === POISON_BACKLOG / 2) {
                batch.push(pageview(r.deviceId as string, `${url}/\u0000poison`, now));
              }
              return appendForTest(store, r.deviceId as string, batch);
            }),
          );
        }
      } finally {
        persister.child.kill('SIGCONT');
      }
      const t0 = performance.now();
      // Polled every 20 ms: the figure is a difference of two such times.
      let ms: number | null = null;
      while (performance.now() - t0 < 120_000) {
        const { rows } = await client.query<{ n: number }>(
          'select count(*)::int as n from page_views where url = $1',
          [url],
        );
        if (rows[0]!.n === POISON_BACKLOG) {
          ms = performance.now() - t0;
          break;
        }
        await sleep(20);
      }
      if (ms === null)
        throw new Error(`faults: the clean entries of trial ${i} were not all written in 120 s`);
      await waitDrained(redis, prefix, 0, 60_000);
      trials.push({ poisoned, ms, deadLetters: (await deadLetterCount(client)) - lettersBefore });
    }
  } finally {
    await persister.terminate(15_000);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
  const delays: number[] = [];
  for (let i = 0; i + 1 < trials.length; i += 2) delays.push(trials[i + 1]!.ms - trials[i]!.ms);
  return {
    trials,
    cleanMs: median(trials.filter((t) => !t.poisoned).map((t) => t.ms)),
    poisonedMs: median(trials.filter((t) => t.poisoned).map((t) => t.ms)),
    delayMs: median(delays),
    delays,
    deadLettered: trials.filter((t) => t.poisoned).map((t) => t.deadLetters),
  };
}

async function deadLetterCount(client: pg.Client): Promise<number> {
  return (await client.query<{ n: number }>('select count(*)::int as n from dead_letters')).rows[0]!.n;
}

/** (b) A full Redis: a persister starts against it, and the queue drains once Postgres answers. */
async function fullRedis(ctx: BenchContext, client: pg.Client) {
  const server = await startRedisServer('bench-faults-full');
  const redis = new Redis(server.url);
  const pgUrl = new URL(ctx.databaseUrl);
  const proxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  const viaProxy = throughProxy(ctx.databaseUrl, proxy);
  const devices = devicePool(2_000);
  const prefix = ctx.prefix;
  const running: RunningProcess[] = [];
  try {
    // Ingest only, and the persister that drains it (its Postgres behind the proxy).
    const collector = await ctx.startCollector({ PERSISTER: 'off', REDIS_URL: server.url });
    const env = { REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix, DATABASE_URL: viaProxy };
    running.push(await startPersister(env));
    await secondsUntil(
      async () => countByOwner(await leaseOwners(redis, prefix)).get(null) === undefined,
      60_000,
    );
    proxy.cut();
    // A backlog first (Postgres unreachable, nothing drains), then room for a few hundred page views
    // more than Redis holds, then nothing: the collector answers 503 once Redis refuses its writes.
    const load = steadyLoad(collector.url, 1_000, devices, 20);
    await sleep(3_000);
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.config('SET', 'maxmemory', String(used + 256 * 1024));
    const filledAt = performance.now();
    // Full: a second in which the collector refused (503) and accepted nothing, within 30 s.
    let full: number | null = null;
    while (performance.now() - filledAt < 30_000) {
      const before = load.statuses.get(503) ?? 0;
      const acceptedBefore = load.accepted.length;
      await sleep(1_000);
      if ((load.statuses.get(503) ?? 0) > before && load.accepted.length === acceptedBefore) {
        full = (performance.now() - filledAt) / 1000;
        break;
      }
    }
    await load.stop();
    await collector.stop();
    const oom = await redis.set(`${prefix}bench-probe`, 'x'.repeat(64 * 1024)).then(
      () => false,
      (err: Error) => /OOM/.test(err.message),
    );
    // A second persister starts against the full Redis (Postgres still unreachable).
    const t0 = performance.now();
    let startError: string | null = null;
    const second = await startPersister(env).catch((err: Error) => {
      startError = err.message.split('\n').slice(0, 3).join(' ');
      return null;
    });
    const startSeconds = second ? (performance.now() - t0) / 1000 : null;
    if (second) running.push(second);
    const queued = await queueDepth(redis, prefix);
    // Postgres reachable again: the queue must empty.
    proxy.restore();
    const drained = await secondsUntil(async () => (await queueDepth(redis, prefix)) === 0, 60_000);
    const rows = await rowsOf(client, load.accepted);
    const holders = countByOwner(await leaseOwners(redis, prefix));
    const members = await Promise.all(running.map((p) => memberOf(redis, prefix, p.pid)));
    return {
      accepted: load.accepted.length,
      statuses: Object.fromEntries(load.statuses),
      fullAfterSeconds: full,
      oomRefusedWrite: oom,
      queuedWhenFull: queued,
      secondStarted: second !== null,
      secondStartSeconds: startSeconds,
      secondStartError: startError,
      secondHoldsLeases: second ? (holders.get(members[1] ?? '') ?? 0) : 0,
      drainSeconds: drained,
      lost: load.accepted.length - rows.found,
      duplicated: rows.extra,
    };
  } finally {
    for (const p of running) await p.terminate(15_000).catch(() => {});
    await proxy.close();
    redis.disconnect();
    await server.close();
  }
}

/** (c) Persisters killed under load, `KILL_RUNS` times. */
async function killedPersisters(ctx: BenchContext, client: pg.Client) {
  const prefix = uniquePrefix('bench-faults-kill');
  const redis = new Redis(ctx.redisUrl);
  const env = { REDIS_URL: ctx.redisUrl, REDIS_KEY_PREFIX: prefix, DATABASE_URL: ctx.databaseUrl };
  const running: RunningProcess[] = [];
  const runs: { pending: number; partitions: number; seconds: number | null }[] = [];
  const splitEvenly = () =>
    secondsUntil(async () => {
      const by = countByOwner(await leaseOwners(redis, prefix));
      return !by.has(null) && by.size === 2 && [...by.values()].every((c) => c >= 16);
    }, 60_000);
  try {
    running.push(await startPersister(env), await startPersister(env));
    const collector = await ctx.startCollector({ ...env, PERSISTER: 'off' });
    const load = steadyLoad(collector.url, KILL_LOAD_RATE, devicePool(5_000));
    try {
      for (let run = 0; run < KILL_RUNS; run++) {
        await splitEvenly();
        await sleep(3_000);
        const victim = running[run % 2]!;
        const member = await memberOf(redis, prefix, victim.pid);
        const theirs = member
          ? (await leaseOwners(redis, prefix)).flatMap((o, p) =>
              o === member ? [streamsOf(prefix)[p]!] : [],
            )
          : [];
        await victim.kill();
        const pending = member ? await pendingOf(redis, prefix, member) : new Map<string, string[]>();
        const last = await lastIds(redis, theirs);
        const seconds = await secondsUntil(
          async () => (await stillQueued(redis, pending)) === 0 && (await queuedUpTo(redis, last)) === 0,
          60_000,
        );
        runs.push({
          pending: [...pending.values()].reduce((n, ids) => n + ids.length, 0),
          partitions: theirs.length,
          seconds,
        });
        running[run % 2] = await startPersister(env);
      }
    } finally {
      await load.stop();
      await collector.stop();
    }
    await waitDrained(redis, prefix, 0, 60_000);
    const rows = await rowsOf(client, load.accepted);
    return {
      runs,
      accepted: load.accepted.length,
      lost: load.accepted.length - rows.found,
      duplicated: rows.extra,
      within: runs.filter((r) => r.seconds !== null && r.seconds <= KILL_TARGET_S).length,
      worstSeconds: Math.max(...runs.map((r) => r.seconds ?? Number.POSITIVE_INFINITY)),
    };
  } finally {
    for (const p of running) await p.terminate(15_000).catch(() => {});
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
}

/** Runs the faults benchmark (`npm run bench -- faults`). */
export async function runFaults(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  await client.connect();
  try {
    const poison = await poisonedEntry(ctx, client);
    const full = await fullRedis(ctx, client);
    const kill = await killedPersisters(ctx, client);
    const targets: Target[] = [
      target(
        `a poisoned entry among ${fmt(POISON_BACKLOG)} queued: delay before the clean ones commit (median of ${poison.delays.length} pairs)`,
        poison.delayMs,
        POISON_DELAY_TARGET_MS,
        ' ms',
        '<',
      ),
      {
        name: 'the poisoned entry dead-lettered, alone, in each poisoned trial',
        measured: poison.deadLettered.join(', '),
        limit: '1 each',
        met: poison.deadLettered.every((n) => n === 1),
      },
      {
        name: 'Redis at maxmemory (noeviction): a persister starts against it',
        measured: full.secondStarted
          ? `started in ${fmt(full.secondStartSeconds)} s`
          : `failed: ${full.secondStartError}`,
        limit: 'starts',
        met: full.secondStarted && full.oomRefusedWrite,
        ...(full.oomRefusedWrite ? {} : { note: 'Redis was not full when it started' }),
      },
      target(
        'Redis at maxmemory (noeviction): queue empty after Postgres is reachable',
        full.drainSeconds,
        FULL_REDIS_DRAIN_TARGET_S,
        ' s',
        '<=',
      ),
      target(
        'Redis at maxmemory: accepted page views lost + duplicated',
        full.lost + full.duplicated,
        0,
        '',
        '<=',
      ),
      {
        name: `persister killed under load (SIGKILL): what it held persisted within ${KILL_TARGET_S} s`,
        measured: `${kill.within} of ${kill.runs.length} runs (worst ${fmt(kill.worstSeconds)} s)`,
        limit: `${KILL_RUNS} of ${KILL_RUNS}`,
        met: kill.within === KILL_RUNS,
      },
      target(
        'persisters killed: accepted page views lost + duplicated',
        kill.lost + kill.duplicated,
        0,
        '',
        '<=',
      ),
    ];
    return {
      name: 'faults',
      title: 'Faults: a poisoned entry, a full Redis, persisters killed under load',
      figures: { poison, full, kill },
      rows: [
        ...poison.trials.map((t, i) => ({
          fault: `${t.poisoned ? 'poisoned' : 'clean'} backlog ${i + 1}`,
          detail: `${fmt(POISON_BACKLOG)} page views${t.poisoned ? ' + 1 with a NUL' : ''}`,
          seconds: t.ms / 1000,
        })),
        {
          fault: 'full Redis',
          detail: `${fmt(full.accepted)} accepted, ${fmt(full.queuedWhenFull)} queued, refusing ${fmt(full.fullAfterSeconds)} s after the limit; second persister holds ${full.secondHoldsLeases} leases after`,
          seconds: full.drainSeconds ?? 'never',
        },
        ...kill.runs.map((r, i) => ({
          fault: `SIGKILL ${i + 1}`,
          detail: `${r.pending} pending, ${r.partitions} partitions`,
          seconds: r.seconds ?? 'never',
        })),
      ],
      targets,
      notes: [
        `poison: persister process (lease ${LEASE_SECONDS} s) held by SIGSTOP while the backlog is appended; seconds from SIGCONT to the last clean row; pairs clean then poisoned, delay = poisoned - clean per pair`,
        `full Redis: own redis-server; Postgres behind a TCP proxy, cut; 3 s of collector load (up to 1,000 page views/s), then maxmemory = used + 256 KiB with noeviction and load until the collector refuses; seconds from the proxy's restore to an empty queue`,
        `kill: two persister processes, ingest-only collector at ${KILL_LOAD_RATE} page views/s; seconds from SIGKILL until the victim's pending entries and everything queued in its partitions up to the kill are gone from the streams (persisted and acknowledged)`,
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await client.end();
  }
}
