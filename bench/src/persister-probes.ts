/**
 * What the persisters benchmark reads from outside the persisters: lease owners and members (Redis
 * keys of the default prefix), lock waits (`pg_locks`), CPU of Postgres and Redis, a backlog written
 * straight onto the queue, and the page-view rows against the accepted count.
 */
import { createRedisStore } from '@devicelink/fastify';
import { appendForTest } from '@devicelink/fastify/testing';
import { DEFAULT_QUEUE_PARTITIONS, type PageviewRecord, uuidv7 } from '@devicelink/protocol';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { cpuOf } from './server-process.js';

const PARTITIONS = DEFAULT_QUEUE_PARTITIONS;

/** The stream keys of the partitions under `prefix`. */
export const streamsOf = (prefix: string): string[] =>
  Array.from({ length: PARTITIONS }, (_, p) => `${prefix}{p${p}}:q`);

/** The lease holder of every partition (null: none). */
export async function leaseOwners(redis: Redis, prefix: string): Promise<(string | null)[]> {
  const pipeline = redis.pipeline();
  for (let p = 0; p < PARTITIONS; p++) pipeline.get(`${prefix}{p${p}}:lease`);
  return ((await pipeline.exec()) ?? []).map(([, v]) => (v as string | null) ?? null);
}

/** Partitions held per owner. */
export function countByOwner(owners: readonly (string | null)[]): Map<string | null, number> {
  const out = new Map<string | null, number>();
  for (const o of owners) out.set(o, (out.get(o) ?? 0) + 1);
  return out;
}

/** The member name of the persister process `pid` (its consumer name carries the pid). */
export async function memberOf(redis: Redis, prefix: string, pid: number): Promise<string | null> {
  const members = await redis.hkeys(`${prefix}{persisters}:i`);
  return members.find((m) => m.includes(`-${pid}-`)) ?? null;
}

/** Polls `check` every 100 ms until true or `timeoutMs`; resolves with the seconds it took, or null. */
export async function secondsUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/** Samples lock waits in the bench database every 100 ms until stopped: sessions waiting on a lock. */
export function sampleLockWaits(client: pg.Client): {
  stop(): Promise<{ samples: number; max: number; total: number; seen: string[] }>;
} {
  let running = true;
  let samples = 0;
  let max = 0;
  let total = 0;
  const seen = new Set<string>();
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ what: string }>(
        `select l.locktype || ' ' || l.mode || coalesce(' on ' || l.relation::regclass::text, '') || ': ' ||
                left(a.query, 80) as what
         from pg_locks l join pg_stat_activity a on a.pid = l.pid
         where not l.granted and a.datname = current_database()`,
      );
      for (const r of rows) seen.add(r.what);
      samples++;
      max = Math.max(max, rows.length);
      total += rows.length;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, max, total, seen: [...seen] };
    },
  };
}

/**
 * CPU seconds of each backend serving the bench database (the persisters' sessions), by pid (Linux
 * `/proc`), or null elsewhere. Other databases' backends on the same server are left out.
 */
export async function postgresCpuSeconds(client: pg.Client): Promise<Map<number, number> | null> {
  const { rows } = await client.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    const cpu = cpuOf(pid);
    if (cpu === null) return null;
    out.set(pid, cpu);
  }
  return out;
}

/** CPU seconds spent between two samples: backends in both by difference, new ones in full. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

/** Redis' own CPU seconds (user + system), from INFO. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
  return user + sys;
}

/**
 * Appends `count` page views of `devices` straight onto the queue (as the touch script would), so the
 * persisters face a backlog without ingest sharing the CPU.
 */
export async function appendBacklog(
  redis: Redis,
  prefix: string,
  devices: readonly string[],
  count: number,
): Promise<void> {
  const store = await createRedisStore(redis, { prefix, partitions: PARTITIONS });
  const perDevice = Math.ceil(count / devices.length);
  const now = Date.now();
  const sessions = devices.map(() => uuidv7());
  let left = count;
  for (let i = 0; i < devices.length && left > 0; i += 200) {
    await Promise.all(
      devices.slice(i, i + 200).map((deviceId, j) => {
        const n = Math.min(perDevice, left);
        left -= n;
        const records: PageviewRecord[] = Array.from({ length: n }, () => ({
          kind: 'pageview',
          eventId: uuidv7(),
          deviceId,
          userId: null,
          sessionId: sessions[i + j]!,
          source: 'header',
          visitorHash: null,
          userAgent: 'bench',
          url: 'https://shop.example/backlog',
          referrer: null,
          clientTs: null,
          serverTs: now,
        }));
        return n > 0 ? appendForTest(store, deviceId, records) : null;
      }),
    );
  }
}

/** Page-view rows, distinct event ids, and the sum of the sessions' page-view counters. */
export async function rowCounts(client: pg.Client): Promise<{ rows: number; ids: number; counted: number }> {
  const { rows } = await client.query<{ rows: number; ids: number; counted: number }>(
    `select (select count(*)::int from page_views) as rows,
            (select count(distinct event_id)::int from page_views) as ids,
            (select coalesce(sum(page_views), 0)::int from sessions) as counted`,
  );
  return rows[0]!;
}

/** Entry ids pending with `consumer`, per partition stream. */
export async function pendingOf(
  redis: Redis,
  prefix: string,
  consumer: string,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const stream of streamsOf(prefix)) {
    const entries = (await redis
      .xpending(stream, 'persist', '-', '+', 100_000, consumer)
      .catch(() => [])) as [string, ...unknown[]][];
    if (entries.length > 0)
      out.set(
        stream,
        entries.map((e) => e[0]),
      );
  }
  return out;
}

/** How many of `pending` are still in their streams (entries are deleted once persisted and acknowledged). */
export async function stillQueued(redis: Redis, pending: Map<string, string[]>): Promise<number> {
  let n = 0;
  for (const [stream, ids] of pending) {
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.xrange(stream, id, id);
    for (const [, found] of (await pipeline.exec()) ?? []) if ((found as unknown[]).length > 0) n++;
  }
  return n;
}

/** Consumer names in the partition groups that are not among `live`. */
export async function foreignConsumers(
  redis: Redis,
  prefix: string,
  live: readonly string[],
): Promise<string[]> {
  const out = new Set<string>();
  for (const stream of streamsOf(prefix)) {
    const consumers = (await redis.xinfo('CONSUMERS', stream, 'persist').catch(() => [])) as unknown[][];
    for (const c of consumers) if (!live.includes(String(c[1]))) out.add(String(c[1]));
  }
  return [...out];
}

/** Events the collector at `url` accepted so far (`devicelink_events_accepted_total`, every kind). */
export async function acceptedByCollector(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^devicelink_events_accepted_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

/** The id of the newest entry of each stream (streams with none are left out). */
export async function lastIds(redis: Redis, streams: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const stream of streams) {
    const [entry] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, unknown][];
    if (entry) out.set(stream, entry[0]);
  }
  return out;
}

/** Streams that still hold an entry queued at or before the given id (entries go at acknowledgement). */
export async function queuedUpTo(redis: Redis, last: Map<string, string>): Promise<number> {
  let n = 0;
  for (const [stream, id] of last) {
    if (((await redis.xrange(stream, '-', id, 'COUNT', 1)) as unknown[]).length > 0) n++;
  }
  return n;
}

/** The server's current WAL position. */
export async function walPosition(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
}

/** WAL bytes written by the whole server since `lsn`. */
export async function walBytesSince(client: pg.Client, lsn: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    'select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text as n',
    [lsn],
  );
  return Number(rows[0]!.n);
}
