/**
 * Collectors on the three-node Redis Cluster started by test/support/redis-cluster.global-setup.ts,
 * with Postgres: the acceptance load (500 concurrent page views for one device over 50 connections),
 * once through one collector and once through two.
 */
import { uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  type RunningProcess,
  startCollectorProcess,
  type TestServices,
  waitFor,
} from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import { inject } from 'vitest';
import { deviceId } from './support/collector.js';
import { httpJson, livePagesVisited, loadPageviews, waitForPageViewRows } from './support/http-load.js';
import { serviceEnv } from './support/service-env.js';

const seeds = hasServices('redis', 'postgres') ? inject('redisClusterNodes') : null;

describe.runIf(seeds)('collectors on a three-node Redis Cluster and Postgres', () => {
  function environment(services: TestServices, cleanup: (fn: () => unknown) => void) {
    const env = {
      ...serviceEnv(services, {
        // More partitions than nodes, so the streams spread over all three shards.
        QUEUE_PARTITIONS: '16',
      }),
      REDIS_CLUSTER_NODES: seeds!,
      REDIS_URL: '',
    };
    const start = async (): Promise<RunningProcess> => {
      const c = await startCollectorProcess(env);
      cleanup(() => c.kill());
      return c;
    };
    return { client: services.database!.client, start };
  }

  test('500 concurrent page views for one device over 50 connections count 500 and land as exactly 500 rows', async ({
    services,
    cleanup,
  }) => {
    const { client, start } = environment(services, cleanup);
    const c = await start();
    expect(c.output()).toContain('Redis Cluster + Postgres');
    // The readiness probe writes into every partition's slot, so a shard refusing writes is seen.
    const ready = await httpJson(c.port, 'GET', '/readyz');
    expect(ready.body).toMatchObject({ status: 'ready', storeWritable: true, error: null });
    expect(ready.body.partitions).toHaveLength(16);
    const d = deviceId();
    const results = await loadPageviews([c.port], d, 500, 50);
    expect(results.filter((r) => r.status !== 202)).toEqual([]);
    expect(await livePagesVisited(c.port, d)).toBe(500);
    await waitForPageViewRows(client, d, 500);
    const s = await client.query('select page_views from sessions where device_id = $1', [d]);
    expect(s.rows).toEqual([{ page_views: 500 }]);
  });

  test('two collectors on the Cluster count 500 for one device and store 500 rows, and devices spread over the shards', async ({
    services,
    cleanup,
  }) => {
    const { client, start } = environment(services, cleanup);
    const [a, b] = await Promise.all([start(), start()]);
    const d = deviceId();
    const results = await loadPageviews([a.port, b.port], d, 500, 50);
    expect(results.filter((r) => r.status !== 202)).toEqual([]);
    expect(await livePagesVisited(a.port, d)).toBe(500);
    // A few more devices, one page view each, through either collector: every partition works.
    const others = Array.from({ length: 24 }, () => deviceId());
    await Promise.all(
      others.map((o, i) =>
        httpJson([a, b][i % 2]!.port, 'POST', '/v1/events', {
          headers: { 'x-device-fingerprint': o },
          body: { events: [{ type: 'pageview', url: '/o', id: uuidv7() }] },
        }),
      ),
    );
    await waitForPageViewRows(client, d, 500);
    await waitFor(
      async () =>
        (await client.query('select count(*)::int as n from page_views where device_id = any($1)', [others]))
          .rows[0].n === others.length,
      { what: 'one row per other device', timeoutMs: 60_000 },
    );
  });
});
