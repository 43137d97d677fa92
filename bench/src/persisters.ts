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
  foreignConsumers,
  leaseOwners,
  memberOf,
  pendingOf,
  postgresCpuSeconds,
  redisCpuSeconds,
  rowCounts,
  sampleLockWaits,
  secondsUntil,
  stillQueued,
  streamsOf,
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
  lockWaits?: { samples: number; max: number; total: number };
  split?: number[];
}

export async function runPersisters(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const backlog = ctx.full ? 200_000 : 60_000;
  const freezeSeconds = ctx.full ? 60 : 20;
  const devices = devicePool(5_000);
  // Redis database 0 under a prefix of its own, not the bench database: another checkout's bench on
  // the same server may flush database 13 or run collectors on its default prefix, whose persisters
  // would drain this queue into their own Postgres.
  const redisUrl = new URL(ctx.redisUrl);
  redisUrl.pathname = '/0';
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
    const cpu0 = procs.map((p) => cpuOf(p.pid) ?? 0);
    const pg0 = postgresCpuSeconds();
    const redis0 = await redisCpuSeconds(redis);
    const locks = sampleLocks ? sampleLockWaits(client) : null;
    // Timed from the first append to the last acknowledgement: the persisters start on the backlog
    // while it is being appended (a lower bound of their rate when appending is the slower).
    const t0 = performance.now();
    await appendBacklog(redis, prefix, devices, backlog);
    await waitDrained(redis, 0, 120_000, streams);
    const seconds = (performance.now() - t0) / 1000;
    const lockWaits = await locks?.stop();
    const after = await rowCounts(client);
    if (after.ids - before.ids !== backlog) {
      throw new Error(`drain wrote ${after.ids - before.ids} rows for a backlog of ${backlog}`);
    }
    const perEvent = (seconds: number | null) => (seconds === null ? null : (seconds * 1e6) / backlog);
    const cpu1 = procs.map((p) => cpuOf(p.pid) ?? 0);
    const pg1 = postgresCpuSeconds();
    return {
      persisters: procs.length,
      events: backlog,
      eventsPerSec: backlog / seconds,
      persisterCpuUsPerEvent: perEvent(cpu1.reduce((a, b, i) => a + b - cpu0[i]!, 0)),
      postgresCpuUsPerEvent: perEvent(pg0 === null || pg1 === null ? null : pg1 - pg0),
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
      await waitDrained(redis, 0, 120_000, streams);
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
    // One persister.
    const solo = await startPersister();
    await split(1);
    const one = await drain([solo], false);
    await solo.terminate(15_000);
    running.splice(0);
    // Two persisters.
    const a = await startPersister();
    const b = await startPersister();
    const splitSeconds = await split(2);
    const two = await drain([a, b], true);
    two.split = [...countByOwner(await owners()).values()];

    // Freeze one of two under load.
    const frozenMember = (await memberOf(redis, prefix, a.pid))!;
    const aliveMember = (await memberOf(redis, prefix, b.pid))!;
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
      const victim = (await memberOf(redis, prefix, b.pid))!;
      const pending = await pendingOf(redis, prefix, victim);
      await b.kill();
      pendingAtKill = [...pending.values()].reduce((n, ids) => n + ids.length, 0);
      persistedAfter = await secondsUntil(async () => (await stillQueued(redis, pending)) === 0, 60_000);
      await secondsUntil(async () => (await owners()).every((o) => o === frozenMember), 30_000);
      leftover = await foreignConsumers(redis, prefix, [frozenMember]);
    });

    const ratio = two.eventsPerSec / one.eventsPerSec;
    const rows: Record<string, string | number>[] = [one, two].map((d) => ({
      run: `${d.persisters} persister${d.persisters > 1 ? 's' : ''}, drain of ${fmt(d.events)} events`,
      'events/s': d.eventsPerSec,
      'persister µs/event': d.persisterCpuUsPerEvent ?? 'n/a',
      'Postgres µs/event': d.postgresCpuUsPerEvent ?? 'n/a',
      'Redis µs/event': d.redisCpuUsPerEvent,
      'lock waits': d.lockWaits ? `max ${d.lockWaits.max} in ${d.lockWaits.samples} samples` : '',
    }));
    return {
      name: 'persisters',
      title: '9. Persisters: one vs two, lock waits, takeovers (lease 10 s, ingest-only collector)',
      figures: {
        one,
        two,
        splitSeconds,
        freeze: { ...freeze, freezeSeconds, movedAfter, aliveMaxLagMs, zombie },
        kill: { ...kill, pendingAtKill, persistedAfter, leftover },
      },
      rows,
      targets: [
        target(
          'lock waits between two persisters (pg_locks, max sampled)',
          two.lockWaits?.max ?? null,
          0,
          '',
          '<=',
        ),
        {
          name: 'partitions per persister (of 64)',
          measured: two.split.join(' / '),
          limit: 'about half each',
          met: two.split.length === 2 && two.split.every((n) => Math.abs(n - 32) <= 1),
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
        target('SIGKILL: its pending entries persisted after', persistedAfter, 15, ' s', '<='),
        target('SIGKILL: events lost + duplicated', kill.lost + kill.duplicated, 0, '', '<='),
        target('SIGKILL: consumer names of dead processes left', leftover.length, 0, '', '<='),
      ],
      notes: [
        `backlog appended straight onto the 64 streams (no ingest competing for CPU); timed from the first append to the last acknowledgement (Redis µs/event includes the append)`,
        `freeze and kill runs: one ingest-only collector at ${LOAD_RATE} events/s; the zombie after SIGCONT: ` +
          `${zombie.gaveUp} "gave up partitions" lines (the lost leases, then hand-overs while rebalancing), ${zombie.fenceRefusals} fence refusals in its log`,
        'µs/event: CPU time of the persister processes, of every postgres process and of Redis over the drain, per event',
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
