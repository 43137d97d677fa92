/**
 * Benchmark 9: persister processes sharing the partitions (`npm start -- persist`, collectors with
 * `PERSISTER=off`). Drain rate of a backlog (the most a persistence tier sustains) with one and with
 * two persisters, lock waits between the two (`pg_locks` sampled every 100 ms), the split of the
 * partitions, CPU per event (persister, Postgres, Redis); then, under a fixed ingest load, one of two
 * frozen with SIGSTOP (the other keeps flowing, the frozen one's partitions move, the resumed one commits
 * nothing it lost) and one killed with SIGKILL (its pending entries persisted, its consumer names gone);
 * rows against accepted events after each: 0 lost, 0 duplicated.
 */
import { deleteKeys, type RunningProcess, startCollectorProcess, uniquePrefix } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { BenchContext } from './bench-context.js';
import { devicePool, runLoad } from './load.js';
import {
  acceptedByCollector,
  appendBacklog,
  countByOwner,
  cpuDelta,
  foreignConsumers,
  lastIds,
  leaseOwners,
  memberOf,
  pendingOf,
  postgresCpuSeconds,
  queuedUpTo,
  redisCpuSeconds,
  rowCounts,
  sampleLockWaits,
  secondsUntil,
  stillQueued,
  streamsOf,
  walBytesSince,
  walPosition,
} from './persister-probes.js';
import { waitDrained } from './queue-depth.js';
import { fmt, type SectionResult, target } from './report.js';
import { cpuOf } from './server-process.js';

/** Lease time of the persisters: the default, so the takeover targets are judged as deployed. */
const LEASE_SECONDS = 10;
/** Fixed ingest rate during the freeze and kill runs, requests (= events) per second. */
const LOAD_RATE = 200;

interface Drain {
  persisters: number;
  events: number;
  eventsPerSec: number;
  persisterCpuUsPerEvent: number | null;
  postgresCpuUsPerEvent: number | null;
  redisCpuUsPerEvent: number;
  /** WAL written per event (the whole server's WAL: other databases' writes add to it). */
  walBytesPerEvent: number;
  lockWaits?: { samples: number; max: number; total: number; seen: string[] };
  split?: number[];
}

export async function runPersisters(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const backlog = ctx.full ? 200_000 : 60_000;
  const freezeSeconds = ctx.full ? 60 : 20;
  const devices = devicePool(5_000);
  // The database REDIS_URL names, under a prefix of its own: another run's collectors (on their own
  // prefixes) never drain this queue into their Postgres.
  const redisUrl = new URL(ctx.redisUrl);
  const redis = new Redis(redisUrl.toString());
  const prefix = uniquePrefix('bench-persisters');
  const streams = streamsOf(prefix);
  const env = {
    REDIS_URL: redisUrl.toString(),
    REDIS_KEY_PREFIX: prefix,
    DATABASE_URL: ctx.databaseUrl,
    PERSISTER_LEASE_SECONDS: String(LEASE_SECONDS),
  };
  const running: RunningProcess[] = [];
  const startPersister = async () => {
    const p = await startCollectorProcess(
      { ...env, LOG_LEVEL: 'info' },
      { command: 'persist', inheritEnv: true },
    );
    running.push(p);
    return p;
  };
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  await client.connect();
  const owners = () => leaseOwners(redis, prefix);
  const split = async (n: number) =>
    secondsUntil(async () => {
      const by = countByOwner(await owners());
      return !by.has(null) && by.size === n && [...by.values()].every((c) => Math.abs(c - 64 / n) <= 1);
    }, 60_000);

  /** Appends the backlog and times its drain between 90% and 10% left. */
  async function drain(procs: RunningProcess[], sampleLocks: boolean): Promise<Drain> {
    const before = await rowCounts(client);
    const locks = sampleLocks ? sampleLockWaits(client) : null;
    // The persisters are held (SIGSTOP, for less than the lease time) while the backlog is appended, so
    // the drain is timed alone, from SIGCONT to the last acknowledgement.
    for (const p of procs) p.child.kill('SIGSTOP');
    try {
      await appendBacklog(redis, prefix, devices, backlog);
    } finally {
      for (const p of procs) p.child.kill('SIGCONT');
    }
    const t0 = performance.now();
    const cpu0 = procs.map((p) => cpuOf(p.pid) ?? 0);
    const pg0 = await postgresCpuSeconds(client);
    const redis0 = await redisCpuSeconds(redis);
    const wal0 = await walPosition(client);
    await waitDrained(redis, prefix, 0, 120_000);
    const seconds = (performance.now() - t0) / 1000;
    const lockWaits = await locks?.stop();
    const after = await rowCounts(client);
    if (after.ids - before.ids !== backlog) {
      throw new Error(`drain wrote ${after.ids - before.ids} rows for a backlog of ${backlog}`);
    }
    const perEvent = (seconds: number | null) => (seconds === null ? null : (seconds * 1e6) / backlog);
    const cpu1 = procs.map((p) => cpuOf(p.pid) ?? 0);
    const pg1 = await postgresCpuSeconds(client);
    return {
      persisters: procs.length,
      events: backlog,
      eventsPerSec: backlog / seconds,
      walBytesPerEvent: (await walBytesSince(client, wal0)) / backlog,
      persisterCpuUsPerEvent: perEvent(cpu1.reduce((a, b, i) => a + b - cpu0[i]!, 0)),
      postgresCpuUsPerEvent: perEvent(pg0 === null || pg1 === null ? null : cpuDelta(pg0, pg1)),
      redisCpuUsPerEvent: perEvent((await redisCpuSeconds(redis)) - redis0)!,
      ...(lockWaits ? { lockWaits } : {}),
    };
  }

  /** A fixed-rate load for `seconds` while `during` runs; then everything drains and rows are checked. */
  async function underLoad(seconds: number, during: () => Promise<void>) {
    const before = await rowCounts(client);
    const collector = await ctx.startCollector({ ...env, PERSISTER: 'off' });
    try {
      const load = runLoad({
        url: collector.url,
        connections: 20,
        seconds,
        eventsPerRequest: 1,
        devices,
        rate: LOAD_RATE,
      });
      await during();
      const r = await load;
      // The collector's own count: a 202 may accept 0 events (a retried id), autocannon counts answers.
      const accepted = await acceptedByCollector(collector.url);
      await waitDrained(redis, prefix, 0, 120_000);
      const after = await rowCounts(client);
      return {
        answers2xx: r.total2xx,
        accepted,
        lost: accepted - (after.ids - before.ids),
        duplicated: after.rows - after.ids - (before.rows - before.ids),
        counterDrift: after.counted - after.rows - (before.counted - before.rows),
      };
    } finally {
      await collector.stop();
    }
  }

  try {
    // One persister, then two, alternately (best of each): other jobs share this machine's cores.
    const a = await startPersister();
    await split(1);
    const ones: Drain[] = [];
    const twos: Drain[] = [];
    let b: RunningProcess | null = null;
    let splitSeconds: number | null = null;
    for (let trial = 0; trial < (ctx.full ? 3 : 2); trial++) {
      if (b) {
        await b.terminate(15_000);
        running.splice(running.indexOf(b), 1);
        await split(1);
      }
      ones.push(await drain([a], false));
      b = await startPersister();
      splitSeconds = await split(2);
      const two = await drain([a, b], true);
      two.split = [...countByOwner(await owners()).values()];
      twos.push(two);
    }
    const best = (drains: Drain[]) => drains.reduce((x, y) => (y.eventsPerSec > x.eventsPerSec ? y : x));
    const one = best(ones);
    const two = best(twos);
    const lockWaits = twos.flatMap((d) => d.lockWaits?.seen ?? []);
    // A relation extension lock is held while a page is added to a table, not for a transaction: two
    // writers of one table meet there whatever they write. Waits on rows, transactions or advisory
    // locks are what would make one persister wait for the other's pass.
    const between = lockWaits.filter((w) => !/^(extend|page) /.test(w));
    if (!b) throw new Error('no second persister');
    const second = b;
    const shares = two.split ?? [];
    const pids = { a: a.pid, b: second.pid };

    // Freeze one of two under load.
    const frozenMember = (await memberOf(redis, prefix, a.pid))!;
    const aliveMember = (await memberOf(redis, prefix, second.pid))!;
    const aliveParts = (await owners()).flatMap((o, p) => (o === aliveMember ? [p] : []));
    let movedAfter: number | null = null;
    let aliveMaxLagMs = 0;
    let resumedAt = 0;
    const freeze = await underLoad(freezeSeconds + 15, async () => {
      await new Promise((r) => setTimeout(r, 5_000));
      a.child.kill('SIGSTOP');
      const t0 = performance.now();
      const moved = secondsUntil(async () => (await owners()).every((o) => o === aliveMember), 60_000);
      // The live persister's own partitions keep flowing: the oldest entry in them stays young.
      while (performance.now() - t0 < freezeSeconds * 1000) {
        const pipeline = redis.pipeline();
        for (const p of aliveParts) pipeline.xrange(streams[p]!, '-', '+', 'COUNT', 1);
        const now = Date.now();
        for (const [, reply] of (await pipeline.exec()) ?? []) {
          const id = (reply as [string][])[0]?.[0];
          if (id) aliveMaxLagMs = Math.max(aliveMaxLagMs, now - Number(id.split('-')[0]));
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      movedAfter = await moved;
      resumedAt = a.output().length;
      a.child.kill('SIGCONT');
    });
    await secondsUntil(async () => /gave up partitions/.test(a.output().slice(resumedAt)), 30_000);
    const zombieLog = a.output().slice(resumedAt);
    const zombie = {
      gaveUp: (zombieLog.match(/gave up partitions/g) ?? []).length,
      fenceRefusals: (zombieLog.match(/leases \(fence\) error/g) ?? []).length,
    };
    await split(2);

    // Kill one of two under load.
    let pendingAtKill = 0;
    let persistedAfter: number | null = null;
    let leftover: string[] = [];
    const kill = await underLoad(20, async () => {
      await new Promise((r) => setTimeout(r, 5_000));
      const victim = (await memberOf(redis, prefix, second.pid))!;
      const theirs = (await owners()).flatMap((o, p) => (o === victim ? [streams[p]!] : []));
      await second.kill();
      // What it held (pending) and everything queued in its partitions up to the kill.
      const pending = await pendingOf(redis, prefix, victim);
      pendingAtKill = [...pending.values()].reduce((n, ids) => n + ids.length, 0);
      const last = await lastIds(redis, theirs);
      persistedAfter = await secondsUntil(
        async () => (await stillQueued(redis, pending)) === 0 && (await queuedUpTo(redis, last)) === 0,
        60_000,
      );
      await secondsUntil(async () => (await owners()).every((o) => o === frozenMember), 30_000);
      leftover = await foreignConsumers(redis, prefix, [frozenMember]);
    });

    const ratio = two.eventsPerSec / one.eventsPerSec;
    const rows: Record<string, string | number>[] = [...ones, ...twos].map((d) => ({
      run: `${d.persisters} persister${d.persisters > 1 ? 's' : ''}, drain of ${fmt(d.events)} events`,
      'events/s': d.eventsPerSec,
      'persister µs/event': d.persisterCpuUsPerEvent ?? 'n/a',
      'Postgres µs/event': d.postgresCpuUsPerEvent ?? 'n/a',
      'Redis µs/event': d.redisCpuUsPerEvent,
      'WAL B/event': d.walBytesPerEvent,
      'lock waits': d.lockWaits ? `max ${d.lockWaits.max} in ${d.lockWaits.samples} samples` : '',
    }));
    return {
      name: 'persisters',
      title: '9. Persisters: one vs two, lock waits, takeovers (lease 10 s, ingest-only collector)',
      figures: {
        pids,
        ones,
        twos,
        lockWaitsSeen: lockWaits,
        one,
        two,
        splitSeconds,
        freeze: { ...freeze, freezeSeconds, movedAfter, aliveMaxLagMs, zombie },
        kill: { ...kill, pendingAtKill, persistedAfter, leftover },
      },
      rows,
      targets: [
        {
          name: 'lock waits between two persisters (pg_locks sampled every 100 ms)',
          measured: `${between.length} on rows, transactions or advisory locks; ${lockWaits.length - between.length} relation extension`,
          limit: '0 (extension waits reported)',
          met: between.length === 0,
        },
        {
          name: 'partitions per persister (of 64)',
          measured: shares.join(' / '),
          limit: 'about half each',
          met: shares.length === 2 && shares.every((n) => Math.abs(n - 32) <= 1),
        },
        {
          name: 'drain rate, two persisters vs one',
          measured: `${fmt(two.eventsPerSec)} vs ${fmt(one.eventsPerSec)} events/s (${fmt(ratio * 100)}%)`,
          limit: '≥ one persister',
          met: ratio >= 1,
        },
        target(`frozen (SIGSTOP ${freezeSeconds} s): its partitions moved after`, movedAfter, 15, ' s', '<='),
        target("frozen: oldest entry in the live persister's partitions", aliveMaxLagMs, 2_000, ' ms', '<='),
        target('frozen then resumed: events lost + duplicated', freeze.lost + freeze.duplicated, 0, '', '<='),
        target(
          `SIGKILL: its pending entries (${pendingAtKill}) and everything queued in its partitions persisted after`,
          persistedAfter,
          15,
          ' s',
          '<=',
        ),
        target('SIGKILL: events lost + duplicated', kill.lost + kill.duplicated, 0, '', '<='),
        target('SIGKILL: consumer names of dead processes left', leftover.length, 0, '', '<='),
      ],
      notes: [
        `backlog appended straight onto the 64 streams (no ingest competing for CPU); persisters held by SIGSTOP while it is appended, then timed from SIGCONT to the last acknowledgement. µs/event: CPU of the persister processes, of the Postgres backends serving them (not the WAL writer or checkpointer) and of Redis (whole server: other jobs add to it) over the drain`,
        `freeze and kill runs: one ingest-only collector at ${LOAD_RATE} events/s; the zombie after SIGCONT: ` +
          `${zombie.gaveUp} "gave up partitions" lines (the lost leases, then hand-overs while rebalancing), ${zombie.fenceRefusals} fence refusals in its log`,
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const p of running) {
      p.child.kill('SIGCONT');
      await p.terminate(15_000);
    }
    await client.end();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
}
