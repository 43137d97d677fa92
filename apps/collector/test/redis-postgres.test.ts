import { uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  type RunningProcess,
  startCollectorProcess,
  startTcpProxy,
  type TestServices,
  testEnv,
  throughProxy,
  waitFor,
} from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import { deviceId } from './support/collector.js';
import {
  httpAgent,
  httpJson,
  livePagesVisited,
  loadPageviews,
  pageViewRows,
  waitForPageViewRows,
} from './support/http-load.js';
import { serviceEnv } from './support/service-env.js';

const services = hasServices('redis', 'postgres');

describe.runIf(services)('collectors on real Redis and Postgres', () => {
  function environment(
    services: TestServices,
    cleanup: (fn: () => unknown) => void,
    databaseUrl?: (url: string) => string,
  ) {
    const url = services.database!.url;
    const env = serviceEnv(services, {
      DATABASE_URL: databaseUrl ? databaseUrl(url) : url,
      QUEUE_PARTITIONS: '8',
    });
    const start = async (e: Record<string, string> = env): Promise<RunningProcess> => {
      const c = await startCollectorProcess(e);
      cleanup(() => c.kill());
      return c;
    };
    const client = services.database!.client;
    /**
     * 500 page views for one new device over 50 connections spread over `ports`, all accepted, counted
     * 500 by the collector on `ports[readFrom]` and landed as 500 rows. Returns the device.
     */
    const load500 = async (ports: number[], readFrom = 0) => {
      const d = deviceId();
      const results = await loadPageviews(ports, d, 500, 50);
      expect(results.every((r) => r.status === 202)).toBe(true);
      expect(await livePagesVisited(ports[readFrom]!, d)).toBe(500);
      await waitForPageViewRows(client, d, 500);
      return d;
    };
    return { env, client, start, load500 };
  }

  test('500 concurrent page views for one device over 50 connections count 500 and land as 500 rows', async ({
    services,
    cleanup,
  }) => {
    const { env, client, start, load500 } = environment(services, cleanup);
    const c = await start(env);
    const d = await load500([c.port]);
    const s = await client.query('select page_views from sessions where device_id = $1', [d]);
    expect(s.rows).toEqual([{ page_views: 500 }]);
  });

  test('two collector processes sharing Redis and Postgres count 500 for one device and store 500 rows', async ({
    services,
    cleanup,
  }) => {
    const { env, start, load500 } = environment(services, cleanup);
    const [a, b] = await Promise.all([start(env), start(env)]);
    await load500([a.port, b.port], 1);
  });

  test('a collector killed with SIGKILL mid-load, then restarted, persists every 202 event exactly once', async ({
    services,
    cleanup,
  }) => {
    const { env, client, start } = environment(services, cleanup);
    const first = await start(env);
    const d = deviceId();
    const accepted: string[] = [];
    const agent = httpAgent(20);
    let killed = false;
    const sends = Array.from({ length: 400 }, async (_, i) => {
      const id = uuidv7();
      try {
        const r = await httpJson(first.port, 'POST', '/v1/events', {
          agent,
          headers: { 'x-device-fingerprint': d },
          body: { events: [{ type: 'pageview', url: `/k/${i}`, id }] },
        });
        if (r.status === 202) accepted.push(id);
        if (accepted.length >= 150 && !killed) {
          killed = true;
          await first.kill();
        }
      } catch {
        // Connection reset by the kill: not accepted.
      }
    });
    await Promise.all(sends);
    agent.destroy();
    if (!killed) await first.kill();
    expect(accepted.length).toBeGreaterThanOrEqual(150);
    // The restarted collector takes the dead one's partitions once their leases expire (10 s by default)
    // and, with them, what it left pending.
    await start(env);
    const count = async () =>
      (
        await client.query('select count(*)::int as n from page_views where event_id = any($1::uuid[])', [
          accepted,
        ])
      ).rows[0].n as number;
    await waitFor(async () => (await count()) === accepted.length, {
      what: 'every accepted event persisted',
      timeoutMs: 100_000,
      intervalMs: 250,
    });
    const total = await pageViewRows(client, d);
    // Rows are unique by event id; events that were queued but never answered may add rows, never duplicates.
    expect(total).toBeGreaterThanOrEqual(accepted.length);
  });

  test('with Postgres unreachable for 10 s events keep getting 202, readyz stays ready reporting it down, and all land once', async ({
    services,
    cleanup,
  }) => {
    const target = new URL(testEnv.databaseUrl!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    cleanup(() => proxy.close());
    const { env, client, start } = environment(services, cleanup, (url) => throughProxy(url, proxy));
    const c = await start(env);
    const d = deviceId();
    const agent = httpAgent(10);
    cleanup(() => agent.destroy());
    const accepted: string[] = [];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const id = uuidv7();
        const r = await httpJson(c.port, 'POST', '/v1/events', {
          agent,
          headers: { 'x-device-fingerprint': d },
          body: { events: [{ type: 'pageview', url: '/o', id }] },
        });
        expect(r.status).toBe(202);
        accepted.push(id);
      }
    };
    await send(20);
    proxy.cut();
    const cutAt = Date.now();
    await send(20);
    const ready = await waitFor(
      async () => {
        const r = await httpJson(c.port, 'GET', '/readyz', { agent });
        return r.body.postgres === 'down' ? r : null;
      },
      { what: 'readyz reporting postgres down' },
    );
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    // Keep Postgres away for 10 s while events keep coming (the scenario, not an assertion).
    while (Date.now() - cutAt < 10_000) await send(5);
    proxy.restore();
    await send(10);
    await waitFor(async () => (await pageViewRows(client, d)) === accepted.length, {
      what: 'every event in Postgres',
      timeoutMs: 60_000,
    });
    const distinct = await client.query(
      'select count(distinct event_id)::int as n from page_views where event_id = any($1::uuid[])',
      [accepted],
    );
    expect(distinct.rows[0].n).toBe(accepted.length);
  });
});
