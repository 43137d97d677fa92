/**
 * A full Redis degrades, never wedges (docs/deploy.md, 4. Redis for zero loss): at `maxmemory` under
 * `noeviction` Redis refuses every command that may grow memory, yet a store can still be created (start-up
 * reads before it writes), and a persister started against it takes its leases (the lease and heartbeat
 * scripts are allowed past OOM), reads, commits and acknowledges, so the queue drains and memory is freed. On
 * a redis-server of the test's own with a tiny `maxmemory`, never the shared one.
 */
import { createRedisStore } from '@devicelink/fastify';
import { appendForTest } from '@devicelink/fastify/testing';
import { type PageviewRecord, uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  openServices,
  redisServerAvailable,
  startRedisServer,
  waitFor,
} from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import { Redis } from 'ioredis';
import { createDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { createPersister } from '../src/persister.js';

const PARTITIONS = 4;

const pageview = (deviceId: string): PageviewRecord => ({
  kind: 'pageview',
  eventId: uuidv7(),
  deviceId,
  userId: null,
  sessionId: uuidv7(),
  source: 'header',
  visitorHash: null,
  userAgent: null,
  url: '/full',
  referrer: null,
  clientTs: null,
  serverTs: Date.now(),
});

describe.runIf(hasServices('postgres') && redisServerAvailable())(
  'a Redis at maxmemory under noeviction',
  () => {
    test('refuses new entries, yet a store starts against it and a persister started against it drains the queue', async ({
      cleanup,
    }) => {
      const server = await startRedisServer('full');
      cleanup(() => server.close());
      const redis = new Redis(server.url);
      cleanup(() => redis.quit());
      const services = await openServices('full-redis', { redis: false });
      cleanup(() => services.close());
      const database = await createDb({ databaseUrl: services.database!.url });
      cleanup(() => database.close());
      await migrate(database.db);

      const ingest = await createRedisStore(redis, { partitions: PARTITIONS });
      const devices = Array.from({ length: 40 }, () => `dev-${uuidv7().replace(/-/g, '')}`);
      const records = devices.map((d) => pageview(d));
      for (const [i, d] of devices.entries()) await appendForTest(ingest, d, [records[i]!]);

      // Full: every command that may grow memory is refused from now on.
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      await redis.config('SET', 'maxmemory', '1');
      cleanup(() => redis.config('SET', 'maxmemory', '0'));
      await expect(appendForTest(ingest, devices[0]!, [pageview(devices[0]!)])).rejects.toThrow(/OOM/);

      // Start-up against the full Redis: a second client, as a new collector or persister opens.
      const other = new Redis(server.url);
      cleanup(() => other.quit());
      const store = await createRedisStore(other, { partitions: PARTITIONS });
      const errors: string[] = [];
      const persister = createPersister({
        db: database.db,
        queue: store,
        leaseMs: 2_000,
        idleMs: 10,
        maxBackoffMs: 200,
        onError: (err, context) => errors.push(`${context}: ${String(err)}`),
      });
      cleanup(() => persister.stop());
      persister.start();
      await waitFor(() => persister.status().partitions.length === PARTITIONS, {
        what: 'every lease taken',
      }).catch((err) => {
        throw new Error(`${err.message}: ${errors.slice(0, 3).join(' | ')}`);
      });
      const rows = async () =>
        (
          await services.database!.client.query(
            'select count(*)::int as n from page_views where event_id = any($1::uuid[])',
            [records.map((r) => r.eventId)],
          )
        ).rows[0].n as number;
      await waitFor(async () => (await rows()) === records.length, { what: 'every queued entry persisted' });
      await waitFor(
        async () =>
          (await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => store.depth(p)))).every(
            (n) => n === 0,
          ),
        { what: 'the queue empty' },
      );
      expect(errors.filter((e) => /OOM/.test(e))).toEqual([]);
    });
  },
);
