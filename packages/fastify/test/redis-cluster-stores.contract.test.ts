import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClient, redisHarness } from './redis-harness.js';
import { storeContracts } from './store-contracts.js';
import { newDeviceId, pageview, touchInput } from './store-harness.js';

// Seeds of the three-node cluster started by redis-cluster.global-setup.ts (null: skipped, it said why).
const seeds = inject('redisClusterNodes');

describe.runIf(seeds !== null)('Redis Cluster (three nodes)', () => {
  let cluster: Cluster;
  beforeAll(() => {
    cluster = clusterClient(seeds!);
  });
  afterAll(async () => {
    await cluster.quit();
  });
  storeContracts(
    'Redis Cluster',
    redisHarness(() => cluster),
  );

  describe('auto-pipelining', () => {
    it('scripts and queue reads for keys on every shard, issued in the same tick, all succeed', async () => {
      expect(cluster.options.enableAutoPipelining).toBe(true);
      const h = await redisHarness(() => cluster)({ partitions: 16 });
      try {
        const devices = Array.from({ length: 300 }, newDeviceId);
        // One tick: ioredis groups these into one pipeline per shard, by each command's first key.
        const touches = await Promise.all(devices.map((d) => h.store.touch(touchInput(d, [pageview()]))));
        expect(touches.filter((r) => r.status !== 'ok')).toEqual([]);
        const sessions = await Promise.all(devices.map((d) => h.store.session(d)));
        expect(sessions.filter((s) => s === null)).toEqual([]);
        await Promise.all(devices.map((d, i) => (i % 3 === 0 ? h.store.erase(d) : null)));
        // Every partition read in the same tick too, as the persister does.
        const reads = await Promise.all(
          Array.from({ length: h.store.partitions }, (_, p) => h.store.read(p, 'reader', 1000)),
        );
        const entries = reads.flat();
        expect(entries.filter((e) => e.record.kind === 'pageview')).toHaveLength(devices.length);
        expect(entries.filter((e) => e.record.kind === 'erase')).toHaveLength(100);
        // The devices' keys lie on more than one shard, so the pipelines above crossed shards.
        const [node] = cluster.nodes('master');
        const shards = new Set<string | undefined>();
        for (const d of devices.slice(0, 30)) {
          for (const key of (await h.keysOf(d)) ?? []) {
            const slot = Number(await node!.call('CLUSTER', 'KEYSLOT', key));
            shards.add(cluster.slots[slot]?.join(','));
          }
        }
        expect(shards.size).toBeGreaterThan(1);
      } finally {
        await h.close();
      }
    });
  });
});
