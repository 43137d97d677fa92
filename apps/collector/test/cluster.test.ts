/**
 * Collectors on the three-node Redis Cluster started by test/support/redis-cluster.global-setup.ts,
 * with Postgres: the acceptance load (500 concurrent page views for one device over 50 connections),
 * once through one collector and once through two.
 */
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices, uniquePrefix, waitFor } from '@devicelink/test-env';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN, deviceId } from './support/collector.js';
import { httpJson, loadPageviews, pageViewRows } from './support/collector-process.js';
import { type ServerCommand, startCommand } from './support/server-command.js';

const seeds = hasServices('redis', 'postgres') ? inject('redisClusterNodes') : null;

describe.runIf(seeds)('collectors on a three-node Redis Cluster and Postgres', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  async function environment(label: string) {
    const database = await createTestDatabase(label);
    cleanups.push(() => database.drop());
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    cleanups.push(() => client.end());
    const env = {
      REDIS_CLUSTER_NODES: seeds!,
      REDIS_KEY_PREFIX: uniquePrefix(label),
      DATABASE_URL: database.url,
      ADMIN_TOKEN,
      RATE_LIMIT_PER_MINUTE: '1000000',
      // More partitions than nodes, so the streams spread over all three shards.
      QUEUE_PARTITIONS: '16',
    };
    return { env, client };
  }

  async function start(env: Record<string, string>): Promise<ServerCommand> {
    const c = await startCommand('serve', env);
    cleanups.push(() => c.kill());
    return c;
  }

  it('500 concurrent page views for one device over 50 connections count 500 and land as exactly 500 rows', async () => {
    const { env, client } = await environment('cluster1');
    const c = await start(env);
    expect(c.output()).toContain('Redis Cluster + Postgres');
    const d = deviceId();
    const results = await loadPageviews([c.port], d, 500, 50);
    expect(results.filter((r) => r.status !== 202)).toEqual([]);
    const detail = await httpJson(c.port, 'GET', `/v1/admin/devices/${d}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(detail.body.liveSession.pagesVisited).toBe(500);
    await waitFor(async () => (await pageViewRows(client, d)) === 500, {
      what: '500 rows',
      timeoutMs: 60_000,
    });
    const s = await client.query('select page_views from sessions where device_id = $1', [d]);
    expect(s.rows).toEqual([{ page_views: 500 }]);
  });

  it('two collectors on the Cluster count 500 for one device and store 500 rows, and devices spread over the shards', async () => {
    const { env, client } = await environment('cluster2');
    const [a, b] = await Promise.all([start(env), start(env)]);
    const d = deviceId();
    const results = await loadPageviews([a.port, b.port], d, 500, 50);
    expect(results.filter((r) => r.status !== 202)).toEqual([]);
    const detail = await httpJson(a.port, 'GET', `/v1/admin/devices/${d}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(detail.body.liveSession.pagesVisited).toBe(500);
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
    await waitFor(async () => (await pageViewRows(client, d)) === 500, {
      what: '500 rows',
      timeoutMs: 60_000,
    });
    await waitFor(
      async () =>
        (await client.query('select count(*)::int as n from page_views where device_id = any($1)', [others]))
          .rows[0].n === others.length,
      { what: 'one row per other device', timeoutMs: 60_000 },
    );
  });
});
