/**
 * The collector's commands and signals as child processes (`node dist/server.js [persist]`): a separate
 * persister, the drain on SIGTERM in both modes, a persister killed with entries in hand and their
 * reclaim, the lag of unread entries, and the demo routes.
 */

import { createRedisStore } from '@devicelink/fastify';
import { createDb, createPersister } from '@devicelink/persister';
import { partitionOf, uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  type RunningProcess,
  startCollectorProcess,
  startTcpProxy,
  type TestServices,
  throughProxy,
  waitFor,
} from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import { loadConfig } from '../src/config/collector-config.js';
import { collector, deviceId, tempDataDir } from './support/collector.js';
import { httpAgent, httpJson } from './support/http-load.js';
import { serviceEnv } from './support/service-env.js';

const PARTITIONS = 4;

/** Starts `server.js` (or `server.js persist`), killed after the test if it still runs. */
async function run(
  cleanup: (fn: () => unknown) => void,
  command: 'serve' | 'persist',
  env: Record<string, string>,
): Promise<RunningProcess> {
  const c = await startCollectorProcess(env, { command });
  cleanup(() => c.kill());
  return c;
}

/** One page view for `device` on the collector at `port`; resolves with its event id when accepted. */
async function send(port: number, device: string, agent?: ReturnType<typeof httpAgent>): Promise<string> {
  const id = uuidv7();
  const r = await httpJson(port, 'POST', '/v1/events', {
    agent,
    headers: { 'x-device-fingerprint': device },
    body: { events: [{ type: 'pageview', url: '/c', id }] },
  });
  if (r.status !== 202) throw new Error(`not accepted: ${r.status} ${JSON.stringify(r.body)}`);
  return id;
}

describe.runIf(hasServices('redis', 'postgres'))('commands on Redis and Postgres', () => {
  async function environment(services: TestServices, cleanup: (fn: () => unknown) => void) {
    const database = services.database!;
    const { client } = database;
    const proxy = await startTcpProxy(new URL(database.url).hostname, Number(new URL(database.url).port));
    cleanup(() => proxy.close());
    const { prefix } = services;
    const env = serviceEnv(services, { QUEUE_PARTITIONS: String(PARTITIONS) });
    const persisted = async (ids: string[]): Promise<number> =>
      (
        await client.query(
          'select count(distinct event_id)::int as n from page_views where event_id = any($1::uuid[])',
          [ids],
        )
      ).rows[0].n;
    /** Rows per event id above one: never expected. */
    const duplicates = async (): Promise<number> =>
      (
        await client.query(
          'select count(*)::int as n from (select event_id from page_views group by event_id having count(*) > 1) d',
        )
      ).rows[0].n;
    return {
      env,
      prefix,
      client,
      proxy,
      viaProxy: { ...env, DATABASE_URL: throughProxy(database.url, proxy) },
      persisted,
      duplicates,
    };
  }

  test('npm start -- persist persists what a PERSISTER=off collector queued, and exits 0 on SIGTERM', async ({
    services,
    cleanup,
  }) => {
    const e = await environment(services, cleanup);
    const ingest = await run(cleanup, 'serve', { ...e.env, PERSISTER: 'off' });
    expect(ingest.output()).toContain('persister off');
    const d = deviceId();
    const ids = [await send(ingest.port, d), await send(ingest.port, d), await send(ingest.port, d)];
    const ready = await httpJson(ingest.port, 'GET', '/readyz');
    expect(ready.body.status).toBe('ready');
    expect(await e.persisted(ids)).toBe(0);

    const persister = await run(cleanup, 'persist', e.env);
    await waitFor(async () => (await e.persisted(ids)) === 3, { what: '3 rows', timeoutMs: 30_000 });
    expect(await persister.terminate()).toEqual({ code: 0, signal: null });
  });

  test('on SIGTERM a collector drains what is queued before it exits 0', async ({ services, cleanup }) => {
    const e = await environment(services, cleanup);
    const c = await run(cleanup, 'serve', e.viaProxy);
    e.proxy.cut();
    // One device per partition: the persister holds one partition's batch while the others stay unread.
    const devices = Array.from({ length: PARTITIONS }, (_, p) => {
      let d = deviceId();
      while (partitionOf(d, PARTITIONS) !== p) d = deviceId();
      return d;
    });
    const agent = httpAgent(10);
    cleanup(() => agent.destroy());
    // Accepted while Postgres is away: they wait on the queue, the persister backs off.
    const ids = await Promise.all(
      Array.from({ length: 40 }, (_, i) => send(c.port, devices[i % PARTITIONS]!, agent)),
    );
    const ready = await waitFor(
      async () => {
        const r = await httpJson(c.port, 'GET', '/readyz', { agent });
        return r.body.postgres === 'down' && r.body.persistLagMs > 0 ? r : null;
      },
      { what: 'readyz reporting postgres down and a lag' },
    );
    expect(ready.body.status).toBe('ready');
    expect(await e.persisted(ids)).toBe(0);
    e.proxy.restore();
    // Without the drain the persister would stop after the batch in hand, leaving the other partitions.
    expect(await c.terminate()).toEqual({ code: 0, signal: null });
    expect(c.output()).toContain('draining the persister');
    expect(await e.persisted(ids)).toBe(ids.length);
  });

  test('a persister killed with SIGKILL while holding read but unacknowledged entries loses none: a reclaim persists each once', async ({
    services,
    cleanup,
  }) => {
    const e = await environment(services, cleanup);
    const ingest = await run(cleanup, 'serve', { ...e.env, PERSISTER: 'off' });
    const persister = await run(cleanup, 'persist', { ...e.viaProxy, PERSISTER_LEASE_SECONDS: '2' });
    // It owns every partition (leases in Redis, fences in Postgres) before Postgres goes away.
    const redis = services.redis!;
    const leases = Array.from({ length: PARTITIONS }, (_, p) => `${e.prefix}{p${p}}:lease`);
    // Leases come first and the fences after them: cut before a fence commits and the persister gives
    // its leases back, holds nothing, and reads nothing.
    await waitFor(
      async () => {
        const holders = await redis.mget(...leases);
        if (holders.some((h) => h === null)) return false;
        const { rows } = await services.database!.client.query<{ owner: string }>(
          'select owner from partition_fences order by partition',
        );
        return rows.length === PARTITIONS && rows.every((r, p) => r.owner === holders[p]);
      },
      { what: 'every lease taken and its fence advanced' },
    );
    e.proxy.cut();

    // Load on several devices (several partitions); the ingest collector is killed mid-load too.
    const devices = Array.from({ length: 6 }, () => deviceId());
    const agent = httpAgent(20);
    const accepted: string[] = [];
    let killed = false;
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        try {
          accepted.push(await send(ingest.port, devices[i % devices.length]!, agent));
        } catch {
          // Refused or reset by the kill: not accepted, not counted.
        }
        if (accepted.length >= 150 && !killed) {
          killed = true;
          await ingest.kill();
        }
      }),
    );
    agent.destroy();
    expect(killed).toBe(true);
    expect(accepted.length).toBeGreaterThanOrEqual(150);

    // Provably pending: the persister read entries it cannot commit while Postgres is cut.
    const streams = Array.from({ length: PARTITIONS }, (_, p) => `${e.prefix}{p${p}}:q`);
    const pending = async () => {
      let n = 0;
      for (const s of streams) {
        const summary = (await redis.xpending(s, 'persist').catch(() => [0])) as [number];
        n += Number(summary[0]);
      }
      return n;
    };
    await waitFor(async () => (await pending()) > 0, { what: 'entries pending in the dead-to-be persister' });
    await persister.kill();
    expect(await pending()).toBeGreaterThan(0);
    expect(await e.persisted(accepted)).toBe(0);
    e.proxy.restore();

    // The restart: once the dead persister's leases expired (2 s here, 10 s by default), the new one
    // takes its partitions and, with them, every entry it left pending.
    const store = await createRedisStore(redis, { prefix: e.prefix, partitions: PARTITIONS });
    const db = await createDb(loadConfig(e.env));
    cleanup(() => db.close());
    let reclaimedFromDead = 0;
    const restarted = createPersister({
      db: db.db,
      // The real store, counting what the takeovers hand over.
      queue: {
        ...store,
        takeOver: async (p, c) => {
          const done = await store.takeOver(p, c);
          reclaimedFromDead += done.claimed;
          return done;
        },
      },
      lookbackDays: 30,
      leaseMs: 2_000,
      idleMs: 10,
    });
    restarted.start();
    cleanup(() => restarted.stop());
    await waitFor(async () => (await e.persisted(accepted)) === accepted.length, {
      what: 'every accepted event persisted',
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    expect(reclaimedFromDead).toBeGreaterThan(0);
    expect(await e.duplicates()).toBe(0);
    await waitFor(async () => (await pending()) === 0, { what: 'nothing pending' });
    // The dead persister's consumer names went with the takeover.
    for (const stream of streams) {
      const consumers = (await redis.xinfo('CONSUMERS', stream, 'persist')) as string[][];
      expect(consumers.map((c) => c[1])).toEqual([restarted.status().member]);
    }
  });

  test('the persister lag counts entries no one has read yet, not only the batch in hand', async ({
    services,
    cleanup,
  }) => {
    const e = await environment(services, cleanup);
    // Two devices in different partitions: the persister gets stuck on the lower one while Postgres
    // is down, so the older entry of the higher one stays unread.
    let low = deviceId();
    let high = deviceId();
    while (partitionOf(low, PARTITIONS) !== 0) low = deviceId();
    while (partitionOf(high, PARTITIONS) !== PARTITIONS - 1) high = deviceId();
    const ingest = await run(cleanup, 'serve', { ...e.env, PERSISTER: 'off' });
    const oldestAt = Date.now();
    await send(ingest.port, high);
    // Real time has to pass for a lag to exist; this waits for it, it asserts nothing.
    await waitFor(() => Date.now() - oldestAt > 1_500, { what: '1.5 s' });
    const newerAt = Date.now();
    await send(ingest.port, low);

    e.proxy.cut();
    const redis = services.redis!;
    const store = await createRedisStore(redis, { prefix: e.prefix, partitions: PARTITIONS });
    const db = await createDb(loadConfig(e.viaProxy));
    cleanup(() => db.close());
    const persister = createPersister({ db: db.db, queue: store, lookbackDays: 30, lagProbeMs: 50 });
    persister.start();
    cleanup(() => persister.stop());
    const status = await waitFor(
      () => {
        const s = persister.status();
        // The batch in hand (the newer entry) alone would give about now - newerAt.
        return !s.postgresUp && s.lagMs >= Date.now() - newerAt + 1_000 ? s : null;
      },
      { what: 'a lag from the unread older entry', timeoutMs: 30_000 },
    );
    expect(status.lagMs).toBeGreaterThan(1_000);
    e.proxy.restore();
    await waitFor(() => persister.status().lagMs === 0, { what: 'lag back to 0', timeoutMs: 30_000 });
  });
});

describe('commands on the embedded defaults', () => {
  test('on SIGTERM the embedded collector persists what it accepted into PGlite and exits 0', async ({
    cleanup,
  }) => {
    const dir = tempDataDir();
    cleanup(async () => dir.remove());
    const c = await run(cleanup, 'serve', { DATA_DIR: dir.dir, RATE_LIMIT_PER_MINUTE: '100000' });
    const d = deviceId();
    const agent = httpAgent(10);
    const ids = await Promise.all(Array.from({ length: 60 }, () => send(c.port, d, agent)));
    agent.destroy();
    expect(await c.terminate()).toEqual({ code: 0, signal: null });
    // Read PGlite directly, with no persister: only what the drain wrote is there.
    const db = await createDb(loadConfig({ DATA_DIR: dir.dir }));
    try {
      const rows = await db.db
        .selectFrom('page_views')
        .select('event_id')
        .where('event_id', 'in', ids)
        .execute();
      expect(rows).toHaveLength(ids.length);
    } finally {
      await db.close();
    }
  });

  test('DEMO=1 answers an access token for the demo users, 401 for a wrong password, and serves the demo app', async ({
    cleanup,
  }) => {
    const dir = tempDataDir();
    cleanup(async () => dir.remove());
    const app = await collector({ DATA_DIR: dir.dir, DEMO: '1' });
    cleanup(() => app.close());
    for (const username of ['alice', 'bob']) {
      const res = await app.inject({
        method: 'POST',
        url: '/demo/login',
        payload: { username, password: username },
      });
      expect(res.statusCode).toBe(200);
      const token = res.json().accessToken as string;
      expect(token.split('.')).toHaveLength(3);
      // The token is one the collector's own identify accepts.
      const identify = await app.inject({
        method: 'POST',
        url: '/v1/identify',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(identify.json()).toMatchObject({ userId: username, deviceId: null });
    }
    const wrong = await app.inject({
      method: 'POST',
      url: '/demo/login',
      payload: { username: 'alice', password: 'bob' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toMatch(/^DL_/);
    const page = await app.inject({ method: 'GET', url: '/demo/' });
    const { demoDistDir } = await import('../src/dashboard/demo-routes.js');
    if (demoDistDir()) {
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
    } else {
      expect(page.statusCode).toBe(404);
    }
  });

  test('npm run demo prints the demo and dashboard addresses and a working read-only token, never into the log', async ({
    cleanup,
  }) => {
    const dir = tempDataDir();
    cleanup(async () => dir.remove());
    const c = await run(cleanup, 'serve', { DATA_DIR: dir.dir, DEMO: '1' });
    const banner = await waitFor(
      () => /devicelink demo: (\S+)[\s\S]*sign in with the token (\S+)/.exec(c.output()),
      {
        what: 'the demo banner',
      },
    );
    expect(banner[1]).toBe(`http://127.0.0.1:${c.port}/demo/`);
    const token = banner[2]!;
    expect(c.output()).toContain(`devicelink dashboard: http://127.0.0.1:${c.port}/dashboard/`);
    const read = (t: string) =>
      httpJson(c.port, 'GET', '/v1/admin/insights/identity', { headers: { authorization: `Bearer ${t}` } });
    expect((await read(token)).status).toBe(200);
    expect((await read(`${token}x`)).status).toBe(401);
    // Read-only, and with no ADMIN_TOKEN the erasure routes do not exist.
    const erase = await httpJson(c.port, 'DELETE', '/v1/admin/users/alice', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(erase.status).toBe(404);
    const logLines = c
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => l.includes(token))).toEqual([]);
  });
});
