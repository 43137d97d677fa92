/**
 * `/readyz` as a balancer's check: answered from what the background probes keep (never a probe per
 * request), with the same fields every time; not ready when Redis refuses writes; `?role=read` needs
 * Postgres; the lag is the queue's own on a `PERSISTER=off` collector; a persister whose last pass is
 * older than its stall time is stalled as its readers see it (a frozen one publishes nothing); dead
 * letters, halted and stuck partitions in the answer and in /metrics.
 */
import { uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  openServices,
  redisServerAvailable,
  startRedisServer,
  startTcpProxy,
  testEnv,
  throughProxy,
  waitFor,
} from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { ADMIN_TOKEN, collector, deviceId, sendPageviews } from './support/collector.js';
import { serviceEnv } from './support/service-env.js';

const FIELDS = [
  'checkedAt',
  'deadLetters',
  'error',
  'haltedPartitions',
  'migrations',
  'ownPersister',
  'partitions',
  'persistLagMs',
  'persister',
  'persisters',
  'postgres',
  'role',
  'status',
  'store',
  'storeWritable',
  'stuckPartitions',
];

const readyz = async (app: FastifyInstance, url = '/readyz') => {
  const res = await app.inject({ url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> & { error: string | null } };
};
const metrics = async (app: FastifyInstance) => (await app.inject({ url: '/metrics' })).body;

describe.runIf(hasServices('postgres') && redisServerAvailable())('readyz on a Redis of its own', () => {
  async function setUp(cleanup: (fn: () => unknown) => void) {
    const redis = await startRedisServer('readyz');
    cleanup(() => redis.close());
    const admin = new Redis(redis.url);
    cleanup(() => admin.quit());
    const services = await openServices('readyz', { redis: false });
    cleanup(() => services.close());
    const app = await collector({ ...services.env, REDIS_URL: redis.url, PERSISTER: 'off' });
    cleanup(() => app.close());
    return { redis, admin, app };
  }

  test('a Redis that answers but refuses writes (maxmemory reached under noeviction) is not ready, with the same fields, and ready again once it takes writes', async ({
    cleanup,
  }) => {
    const { admin, app } = await setUp(cleanup);
    const ready = await readyz(app);
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body).sort()).toEqual(FIELDS);
    expect(ready.body).toMatchObject({ status: 'ready', storeWritable: true, error: null });

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    await waitFor(async () => (await readyz(app)).status === 503, { what: 'readyz refusing' });
    const refused = await readyz(app);
    expect(Object.keys(refused.body).sort()).toEqual(FIELDS);
    expect(refused.body).toMatchObject({ status: 'unavailable', storeWritable: false });
    expect(refused.body.error).toMatch(/^the store does not take writes: OOM/);
    // Reads still answer: the persistence details are still there.
    expect(refused.body.partitions).toHaveLength(app.collector.config.queuePartitions);
    expect(await metrics(app)).toMatch(/^devicelink_store_writable 0$/m);

    await admin.config('SET', 'maxmemory', '0');
    await waitFor(async () => (await readyz(app)).status === 200, { what: 'readyz ready again' });
    expect(await metrics(app)).toMatch(/^devicelink_store_writable 1$/m);
  });

  test('a collector starts against a full Redis (and says it is not ready); against a full Redis it never set up, it refuses with one line naming the problem', async ({
    cleanup,
  }) => {
    const { redis, admin } = await setUp(cleanup);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    const services = await openServices('readyz-full', { redis: false });
    cleanup(() => services.close());
    const env = {
      ...services.env,
      REDIS_URL: redis.url,
      PERSISTER: 'on',
    };
    const second = await collector(env);
    cleanup(() => second.close());
    await waitFor(async () => (await readyz(second)).status === 503, { what: 'not ready' });

    // A key prefix nothing set up yet: the partition count must be written, and Redis refuses.
    const refused = await collector({ ...env, REDIS_KEY_PREFIX: 'dl-fresh:' }).then(
      (a) => a.close().then(() => null),
      (err: unknown) => err as Error,
    );
    expect(refused?.name).toBe('StartupError');
    expect(refused?.message).toMatch(
      /^REDIS_URL \(redis:\/\/127\.0\.0\.1:\d+\/?\): Redis refuses writes: used memory is above maxmemory \(OOM\)/,
    );
    expect(refused?.message).not.toMatch(/\n|script|user_script|redis\.call/);
  });

  test('a hung Redis does not hold the answer: readyz answers from the last state at once, and says not ready only after several probes went unanswered', async ({
    cleanup,
  }) => {
    const { redis, app } = await setUp(cleanup);
    redis.pause();
    cleanup(() => redis.resume());
    // The route does no I/O: the answer comes while every probe hangs.
    const first = await readyz(app);
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(FIELDS);
    await waitFor(async () => (await readyz(app)).status === 503, {
      what: 'readyz after 3 unanswered probes',
    });
    expect((await readyz(app)).body.error).toMatch(/timed out|no answer in/);
    redis.resume();
    await waitFor(async () => (await readyz(app)).status === 200, { what: 'readyz ready again' });
  });
});

describe.runIf(hasServices('redis', 'postgres'))('readyz on Redis and Postgres', () => {
  test('a PERSISTER=off collector reports the real lag of the queue and the partition as stuck; a persister whose last pass is older than its stall time is stalled; halted partitions and dead letters are shown in readyz and metrics', async ({
    services,
    cleanup,
  }) => {
    const app = await collector(serviceEnv(services, { PERSISTER: 'off', PERSISTER_LEASE_SECONDS: '1' }));
    cleanup(() => app.close());
    expect((await sendPageviews(app, deviceId(), 2)).statusCode).toBe(202);
    const lagging = await waitFor(
      async () => {
        const r = await readyz(app);
        return (r.body.persistLagMs as number) >= 1_500 && (r.body.stuckPartitions as number[]).length === 1
          ? r
          : null;
      },
      { what: 'a lag past 1.5 s and a stuck partition' },
    );
    expect(lagging.body).toMatchObject({ status: 'ready', persister: 'off', ownPersister: null });
    const [stuck] = lagging.body.stuckPartitions as number[];
    expect(await metrics(app)).toMatch(
      new RegExp(`^devicelink_partition_stuck\\{partition="${stuck}"\\} 1$`, 'm'),
    );

    // What a persister published last before it froze: it owned partitions, its last pass 20 s ago.
    const store = app.collector.resources.store;
    const member = `frozen-${uuidv7()}`;
    const info = { partitions: 3, lastPassAt: Date.now() - 20_000, stalled: false, postgresUp: true };
    await store.heartbeat(member, 30_000, JSON.stringify({ ...info, stallMs: 5_000, halted: [2] }));
    cleanup(() => store.leave(member));
    const seen = await waitFor(
      async () => {
        const r = await readyz(app);
        return (r.body.persisters as Array<{ member: string }>).some((p) => p.member === member) ? r : null;
      },
      { what: 'the frozen persister listed' },
    );
    expect(seen.body.persisters).toContainEqual(
      expect.objectContaining({ member, stalled: true, partitions: 3 }),
    );
    expect(seen.body.haltedPartitions).toEqual([2]);
    const text = await metrics(app);
    expect(text).toContain(`devicelink_persister_stalled{member="${member}"} 1`);
    expect(text).toMatch(/^devicelink_partition_halted\{partition="2"\} 1$/m);

    const client = services.database!.client;
    await client.query(
      `insert into dead_letters (partition, entry_id, error, record, failed_at) values (0, '1-0', 'refused', '{}', now())`,
    );
    await waitFor(async () => (await readyz(app)).body.deadLetters === 1, {
      what: 'the dead letter counted',
      timeoutMs: 15_000,
    });
    expect(await metrics(app)).toMatch(/^devicelink_dead_letters 1$/m);
  });

  test('Postgres unreachable: ready for ingest (reported down), not ready for the read role', async ({
    services,
    cleanup,
  }) => {
    const target = new URL(testEnv.databaseUrl!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    cleanup(() => proxy.close());
    const env = serviceEnv(services, { PERSISTER: 'off' });
    const app = await collector({ ...env, DATABASE_URL: throughProxy(env.DATABASE_URL!, proxy) });
    cleanup(() => app.close());
    expect((await readyz(app, '/readyz?role=read')).status).toBe(200);

    proxy.cut();
    await waitFor(async () => (await readyz(app)).body.postgres === 'down', { what: 'postgres down' });
    const ingest = await readyz(app);
    expect(ingest).toMatchObject({ status: 200, body: { status: 'ready', role: 'ingest' } });
    const read = await readyz(app, '/readyz?role=read');
    expect(read.status).toBe(503);
    expect(Object.keys(read.body).sort()).toEqual(FIELDS);
    expect(read.body.error).toMatch(/^Postgres is unreachable/);
    expect(await metrics(app)).toMatch(/^devicelink_postgres_up 0$/m);
    // An admin read answers 503 without the database's error text (it stays in the log).
    const admin = await app.inject({
      url: '/v1/admin/dead-letters',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(admin.statusCode).toBe(503);
    expect(admin.json()).toMatchObject({
      code: 'DL_DATABASE_UNAVAILABLE',
      message: 'the database is unavailable',
    });

    proxy.restore();
    await waitFor(async () => (await readyz(app, '/readyz?role=read')).status === 200, {
      what: 'read role ready',
    });
  });
});
