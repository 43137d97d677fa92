import { createRedisStore } from '@devicelink/fastify';
import { appendForTest } from '@devicelink/fastify/testing';
import { type PageviewRecord, partitionOf, uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, hasServices, testEnv, uniquePrefix } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { writePass } from '../src/batch-writer.js';
import { createDb } from '../src/create-db.js';
import { writeIsolating } from '../src/isolating-writer.js';
import { migrate } from '../src/migrate.js';
import { createPersister } from '../src/persister.js';
import { isTransientError } from '../src/write-failures.js';
import { usePersisterHarness } from './persister-harness.js';
import { device, entries, link, pageview } from './queue-records.js';

const MINUTE = 60_000;
const PARTITIONS = 4;

describe('what the persister retries and what it isolates', () => {
  it('retries connection, rollback, resource, operator and system failures, and isolates everything else', () => {
    for (const code of ['08006', '08001', '40001', '40P01', '53300', '57P01', '57014', '58030']) {
      expect(isTransientError({ code })).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']) {
      expect(isTransientError({ code })).toBe(true);
    }
    expect(isTransientError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientError(new Error('timeout exceeded when trying to connect'))).toBe(true);
    // Postgres refusing the data, and records the code cannot handle, are about the entries.
    for (const code of ['22021', '22P02', '23505', '42P01']) expect(isTransientError({ code })).toBe(false);
    expect(isTransientError(new TypeError("Cannot read properties of undefined (reading 'serverTs')"))).toBe(
      false,
    );
    expect(isTransientError(new Error('boom'))).toBe(false);
    expect(isTransientError(null)).toBe(false);
  });
});

describe.runIf(hasServices('postgres'))('persister robustness against Postgres', () => {
  const h = usePersisterHarness('persister_robust', PARTITIONS, { maxBackoffMs: 50 });
  const newPersister = (errors: Array<{ err: unknown; context: string }> = []) =>
    h.newPersister({ onError: (err, context) => errors.push({ err, context }) });

  it('a page view a dead consumer left pending before its device was erased does not come back', async () => {
    const d = device();
    const partition = partitionOf(d, PARTITIONS);
    await appendForTest(h.stores, d, [pageview(d, uuidv7(), h.clock)]);
    // A consumer reads the page view and dies before writing it.
    expect(await h.stores.read(partition, 'dead-consumer', 10)).toHaveLength(1);
    await appendForTest(h.stores, d, [{ kind: 'erase', deviceId: d, ts: h.clock }]);
    // The next owner of the partition takes the pending page view over and writes it first, in queue order.
    expect(await (await newPersister()).runOnce()).toBe(1);
    h.clock += 2 * MINUTE;
    // Then the erasure, which removes it.
    expect(await (await newPersister()).runOnce()).toBe(1);
    expect(await h.pageViewsOf(d)).toHaveLength(0);
    expect(await h.sessionsOf(d)).toHaveLength(0);
    expect(await h.db.db.selectFrom('devices').selectAll().where('device_id', '=', d).execute()).toHaveLength(
      0,
    );
    expect(await h.depth()).toBe(0);
  });

  it('links, edges, withdrawals and revocations of an erased device written after its erasure are dropped', async () => {
    const d = device();
    const other = device();
    const p = partitionOf(d, PARTITIONS);
    await writePass(h.db.db, [entries(p, { kind: 'erase', deviceId: d, ts: Date.now() })], 30);
    await writePass(
      h.db.db,
      [
        entries(
          p,
          link(d, `user-${uuidv7()}`, Date.now()),
          { kind: 'edge', edge: 'cookie', deviceId: d, otherId: other, ts: Date.now() },
          { kind: 'edge', edge: 'join', deviceId: other, otherId: d, ts: Date.now() },
          // A withdrawal queued in another id's partition, and a revocation of joins to the erased id
          // (claimants may still name it), written after the erasure.
          { kind: 'forget-edges', deviceId: d, ts: Date.now() },
          { kind: 'unjoin', deviceId: d, ts: Date.now() },
        ),
      ],
      30,
    );
    expect(
      await h.db.db.selectFrom('edge_withdrawals').selectAll().where('device_id', '=', d).execute(),
    ).toHaveLength(0);
    expect(
      await h.db.db.selectFrom('fingerprint_revocations').selectAll().where('device_id', '=', d).execute(),
    ).toHaveLength(0);
    expect(
      await h.db.db.selectFrom('identity_links').selectAll().where('device_id', '=', d).execute(),
    ).toHaveLength(0);
    const edges = await h.db.db
      .selectFrom('device_edges')
      .selectAll()
      .where((eb) => eb.or([eb('device_id', '=', d), eb('other_id', '=', d)]))
      .execute();
    expect(edges).toHaveLength(0);
  });

  it('a record Postgres refuses is dead-lettered and acknowledged while the good records of its partition still land', async () => {
    const d = device();
    const good = pageview(d, uuidv7(), h.clock);
    // Queued through append, bypassing the token check: a NUL in the user id (Postgres text refuses it).
    const bad = pageview(null, null, h.clock, 'user\u0000nul');
    const badUuid: PageviewRecord = { ...pageview(d, uuidv7(), h.clock), eventId: 'not-a-uuid' };
    await appendForTest(h.stores, d, [bad, good, badUuid]);
    // Another partition's record in the same pass.
    let elsewhere = device();
    while (partitionOf(elsewhere, PARTITIONS) === partitionOf(d, PARTITIONS)) elsewhere = device();
    const other = pageview(elsewhere, uuidv7(), h.clock);
    await appendForTest(h.stores, elsewhere, [other]);

    const errors: Array<{ err: unknown; context: string }> = [];
    const p = await newPersister(errors);
    expect(await p.runOnce()).toBe(4);
    expect((await h.pageViewsOf(d)).map((r) => r.event_id)).toEqual([good.eventId]);
    expect((await h.pageViewsOf(elsewhere)).map((r) => r.event_id)).toEqual([other.eventId]);
    expect(await h.depth()).toBe(0);
    expect(errors.filter((e) => e.context.startsWith('dead-letter'))).toHaveLength(2);
    expect(p.status()).toMatchObject({ postgresUp: true });
    const letters = await h.db.db.selectFrom('dead_letters').selectAll().execute();
    const records = letters.map((l) => JSON.parse(l.record) as PageviewRecord);
    expect(records.map((r) => r.eventId).sort()).toEqual([bad.eventId, 'not-a-uuid'].sort());

    // The partition keeps flowing.
    const later = pageview(d, uuidv7(), h.clock);
    await appendForTest(h.stores, d, [later]);
    expect(await p.runOnce()).toBe(1);
    expect(await h.pageViewsOf(d)).toHaveLength(2);
  });

  it('a page view whose user id holds a lone surrogate no longer stops persistence: it is written, and the pass with it', async () => {
    const d = device();
    // Queued through append, bypassing the token check that now refuses such a `sub` at the edge.
    const surrogate = pageview(d, uuidv7(), h.clock, 'x\ud800');
    const after = pageview(d, uuidv7(), h.clock, 'user-after');
    await appendForTest(h.stores, d, [surrogate, after]);
    const errors: Array<{ err: unknown; context: string }> = [];
    const p = await newPersister(errors);
    expect(await p.runOnce()).toBe(2);
    expect(errors).toEqual([]);
    // Postgres keeps ill-formed UTF-16 as U+FFFD (UTF-8 has no lone surrogates).
    expect((await h.pageViewsOf(d)).map((r) => r.user_id).sort()).toEqual(['user-after', 'x\ufffd']);
    expect(await h.depth()).toBe(0);
  });

  it('an entry that fails alone is dead-lettered while the 1,000 clean entries of its pass commit in that same pass', async () => {
    const d = device();
    // A record no retry can write (no server time): found by halves among a thousand clean ones.
    const poisoned = { ...pageview(d, uuidv7(), h.clock), serverTs: undefined as unknown as number };
    const clean = Array.from({ length: 999 }, () => pageview(d, uuidv7(), h.clock));
    await appendForTest(h.stores, d, [...clean.slice(0, 500), poisoned, ...clean.slice(500)]);
    let elsewhere = device();
    while (partitionOf(elsewhere, PARTITIONS) === partitionOf(d, PARTITIONS)) elsewhere = device();
    await appendForTest(h.stores, elsewhere, [pageview(elsewhere, uuidv7(), h.clock)]);

    const errors: Array<{ err: unknown; context: string }> = [];
    const p = await h.newPersister({
      batchSize: 2_000,
      onError: (err, context) => errors.push({ err, context }),
    });
    expect(await p.runOnce()).toBe(1_001);
    expect(await h.pageViewsOf(d)).toHaveLength(999);
    expect(await h.pageViewsOf(elsewhere)).toHaveLength(1);
    expect(await h.depth()).toBe(0);
    expect(errors.map((e) => e.context)).toEqual([expect.stringMatching(/^dead-letter \(partition/)]);
    const letters = (await h.db.db.selectFrom('dead_letters').selectAll().execute())
      .map((l) => JSON.parse(l.record) as PageviewRecord)
      .filter((r) => r.deviceId === d);
    expect(letters.map((r) => r.eventId)).toEqual([poisoned.eventId]);
    expect(p.status()).toMatchObject({ postgresUp: true, halted: [] });
  });

  it('a poisoned entry among 64 partitions costs a few transactions, not one per partition: partitions by halves, then entries', async () => {
    const partitions = Array.from({ length: 64 }, (_, p) => {
      const d = device();
      return entries(p, ...Array.from({ length: 16 }, () => pageview(d, uuidv7(), h.clock)));
    });
    const poisoned = partitions[37]!.entries[9]!;
    (poisoned.record as PageviewRecord).url = '/poison\u0000';
    const isolated = await writeIsolating(h.db.db, partitions, {
      lookbackDays: 30,
      beforeCommit: async () => {},
      maxFailures: 10,
    });
    expect(isolated.failed.map((f) => f.entry)).toEqual([poisoned]);
    expect(isolated.halted).toEqual([]);
    expect(isolated.result.pageViewsInserted).toBe(64 * 16 - 1);
    // Halves of the partitions (6 levels, 2 each), then of the poisoned one's 16 entries (4 levels, 2
    // each); writing each partition alone took 64 transactions before its entries were halved.
    expect(isolated.writes).toBeLessThanOrEqual(2 * 6 + 2 * 4);
  });

  it('a partition with more failing entries than the dead-letter limit is halted, not emptied into the dead letters, while the others flow', async () => {
    const d = device();
    const broken = Array.from({ length: 4 }, () => ({
      ...pageview(d, uuidv7(), h.clock),
      eventId: 7 as unknown as string,
    }));
    await appendForTest(h.stores, d, [pageview(d, uuidv7(), h.clock), ...broken]);
    let elsewhere = device();
    while (partitionOf(elsewhere, PARTITIONS) === partitionOf(d, PARTITIONS)) elsewhere = device();
    await appendForTest(h.stores, elsewhere, [pageview(elsewhere, uuidv7(), h.clock)]);

    const errors: Array<{ err: unknown; context: string }> = [];
    const p = await h.newPersister({
      maxDeadLettersPerPartition: 2,
      maxBackoffMs: 60_000,
      onError: (err, context) => errors.push({ err, context }),
    });
    expect(await p.runOnce()).toBe(1);
    expect(await h.pageViewsOf(elsewhere)).toHaveLength(1);
    const letters = await h.db.db.selectFrom('dead_letters').selectAll().execute();
    expect(letters.filter((l) => (JSON.parse(l.record) as PageviewRecord).deviceId === d)).toHaveLength(0);
    expect(errors.map((e) => e.context)).toEqual([
      `dead-letter limit (partition ${partitionOf(d, PARTITIONS)})`,
    ]);
    expect(p.status().halted).toEqual([
      { partition: partitionOf(d, PARTITIONS), error: expect.stringContaining('limit 2') },
    ]);
    // Nothing of the halted partition was acknowledged, and it is not read again during its pause.
    expect(await h.depth()).toBe(5);
    expect(await p.runOnce()).toBe(0);
  });

  it('a session is converted by its earliest link even when a later link was persisted first', async () => {
    const d = device();
    const part = partitionOf(d, PARTITIONS);
    const start = Date.now() - 10 * MINUTE;
    const session = uuidv7();
    await writePass(h.db.db, [entries(part, pageview(d, session, start))], 30);
    const userA = `user-a-${uuidv7()}`;
    const userB = `user-b-${uuidv7()}`;
    // Link B (later) lands first, link A (earlier, e.g. reclaimed from a dead consumer) after it.
    await writePass(h.db.db, [entries(part, link(d, userB, start + 5 * MINUTE))], 30);
    expect((await h.sessionsOf(d))[0]).toMatchObject({ converted_user_id: userB });
    await writePass(h.db.db, [entries(part, link(d, userA, start + 2 * MINUTE))], 30);
    const [s] = await h.sessionsOf(d);
    expect(s).toMatchObject({ converted_user_id: userA });
    expect(s!.converted_at!.getTime()).toBe(start + 2 * MINUTE);
    // And never moved to the later link again.
    await writePass(h.db.db, [entries(part, pageview(d, session, start + MINUTE))], 30);
    expect((await h.sessionsOf(d))[0]).toMatchObject({ converted_user_id: userA });
  });

  it("an erased user's link still queued erases its device when no other user is linked to it", async () => {
    const d = device();
    const shared = device();
    const part = partitionOf(d, PARTITIONS);
    const user = `user-${uuidv7()}`;
    const otherUser = `user-${uuidv7()}`;
    const start = Date.now() - 10 * MINUTE;
    // The device's anonymous history reached Postgres; its link to the user was still queued.
    await writePass(h.db.db, [entries(part, pageview(d, uuidv7(), start))], 30);
    await writePass(
      h.db.db,
      [
        entries(
          partitionOf(shared, PARTITIONS),
          pageview(shared, uuidv7(), start),
          link(shared, otherUser, start),
        ),
      ],
      30,
    );
    await writePass(h.db.db, [entries(0, { kind: 'erase-user', userId: user, ts: Date.now() })], 30);
    await writePass(
      h.db.db,
      [
        entries(part, link(d, user, start + MINUTE)),
        entries(partitionOf(shared, PARTITIONS), link(shared, user, start + MINUTE)),
      ],
      30,
    );
    expect(await h.pageViewsOf(d)).toHaveLength(0);
    expect(await h.sessionsOf(d)).toHaveLength(0);
    expect(
      await h.db.db.selectFrom('erased_devices').selectAll().where('device_id', '=', d).execute(),
    ).toHaveLength(1);
    // A page view of that device reclaimed later stays dropped.
    await writePass(h.db.db, [entries(part, pageview(d, uuidv7(), start + 2 * MINUTE))], 30);
    expect(await h.pageViewsOf(d)).toHaveLength(0);
    // The device another user is linked to keeps its history, without the erased user's link.
    expect(await h.pageViewsOf(shared)).toHaveLength(1);
    const links = await h.db.db
      .selectFrom('identity_links')
      .selectAll()
      .where('device_id', '=', shared)
      .execute();
    expect(links.map((l) => l.user_id)).toEqual([otherUser]);
  });
});

describe.runIf(hasServices('redis', 'postgres'))('persister consumers on Redis', () => {
  it('a persister stopped cleanly leaves the consumer group; a consumer still holding entries stays', async () => {
    const redis = new Redis(testEnv.redisUrl!);
    const prefix = uniquePrefix('consumer');
    const database = await createTestDatabase('persister_robust_redis');
    const db = await createDb({ databaseUrl: database.url, dataDir: '/nonexistent' });
    try {
      await migrate(db.db);
      const stores = await createRedisStore(redis, { prefix, partitions: 2 });
      const d = device();
      const partition = partitionOf(d, 2);
      const stream = `${prefix}{p${partition}}:q`;
      const consumers = async () =>
        ((await redis.xinfo('CONSUMERS', stream, 'persist')) as unknown[][]).map((c) => String(c[1]));

      // Entries read and not acknowledged: the consumer is kept, so a reclaim still finds them.
      await appendForTest(stores, d, [pageview(d, uuidv7(), Date.now())]);
      const held = await stores.read(partition, 'holder', 10);
      expect(held).toHaveLength(1);
      expect(await stores.removeConsumer(partition, 'holder')).toBe(false);
      expect(await consumers()).toContain('holder');
      await stores.ack(
        partition,
        held.map((e) => e.id),
      );
      expect(await stores.removeConsumer(partition, 'holder')).toBe(true);
      expect(await consumers()).not.toContain('holder');

      await appendForTest(stores, d, [pageview(d, uuidv7(), Date.now())]);
      const persister = createPersister({
        db: db.db,
        queue: stores,
        lookbackDays: 30,
        consumer: 'clean-stop',
      });
      expect(await persister.runOnce()).toBe(1);
      persister.start();
      expect(await consumers()).toContain('clean-stop');
      await persister.stop();
      expect(await consumers()).not.toContain('clean-stop');
    } finally {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      for (const k of keys) await redis.del(k);
      redis.disconnect();
      await db.close();
      await database.drop();
    }
  });
});
