/**
 * Partition ownership of persisters in one process, on real Redis and Postgres: disjoint shares, and a
 * persister stopped inside a pass (its transaction held open by a gate on its database, as a SIGSTOP
 * would) that resumes after its partitions moved: its late commit is refused, by its lease's local
 * validity or, when that still looks valid (the lease was lost in Redis), by the Postgres fence.
 */
import { createRedisStore, type RedisStore } from '@devicelink/fastify';
import { appendForTest } from '@devicelink/fastify/testing';
import { type PageviewRecord, partitionOf, uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  openServices,
  startTcpProxy,
  type TestServices,
  throughProxy,
  waitFor,
} from '@devicelink/test-env';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  UnknownRow,
} from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type PersisterDb } from '../src/create-db.js';
import { migrate } from '../src/migrate.js';
import { createPersister, type Persister } from '../src/persister.js';

const PARTITIONS = 4;

/**
 * Holds the result of the first query after `arm()` until `release()`: the persister is then stopped
 * inside its pass transaction, with that transaction open in Postgres.
 */
class Gate implements KyselyPlugin {
  #armed = false;
  #held: object | null = null;
  #open: () => void = () => {};
  #opened = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  reached = false;

  arm(): void {
    this.#armed = true;
  }

  release(): void {
    this.#open();
  }

  transformQuery(args: PluginTransformQueryArgs) {
    if (this.#armed && this.#held === null) {
      this.#armed = false;
      this.#held = args.queryId;
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (args.queryId === this.#held) {
      this.reached = true;
      await this.#opened;
    }
    return args.result;
  }
}

const pageview = (deviceId: string): PageviewRecord => ({
  kind: 'pageview',
  eventId: uuidv7(),
  deviceId,
  userId: null,
  sessionId: uuidv7(),
  source: 'header',
  visitorHash: null,
  userAgent: null,
  url: '/fenced',
  referrer: null,
  clientTs: null,
  serverTs: Date.now(),
});

describe.runIf(hasServices('redis', 'postgres'))('partition ownership', () => {
  let services: TestServices;
  let db: PersisterDb;
  let store: RedisStore;
  const persisters: Persister[] = [];
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    services = await openServices('ownership');
    db = await createDb({ databaseUrl: services.database!.url });
    await migrate(db.db);
    store = await createRedisStore(services.redis!, { prefix: services.prefix, partitions: PARTITIONS });
  });
  afterEach(async () => {
    await Promise.all(persisters.splice(0).map((p) => p.stop()));
    for (const close of closers.splice(0).reverse()) await close();
    await db.close();
    await services.close();
  });

  const persister = (name: string, leaseMs: number, database = db, errors: string[] = []) => {
    const p = createPersister({
      db: database.db,
      queue: store,
      consumer: name,
      leaseMs,
      idleMs: 10,
      maxBackoffMs: 100,
      onError: (err, context) => errors.push(`${context}: ${String(err)}`),
    });
    persisters.push(p);
    return p;
  };
  /** A persister whose database stops at the gate, with its transactions free to stay open a minute. */
  const gated = async (name: string, leaseMs: number, errors: string[]) => {
    const gate = new Gate();
    const database = await createDb({
      databaseUrl: services.database!.url,
      idleInTransactionTimeoutMs: 60_000,
    });
    closers.push(() => database.close());
    const withGate = { ...database, db: database.db.withPlugin(gate) };
    return { gate, persister: persister(name, leaseMs, withGate, errors) };
  };
  const rowsOf = async (ids: string[]) =>
    (
      await services.database!.client.query(
        'select count(*)::int as n from page_views where event_id = any($1::uuid[])',
        [ids],
      )
    ).rows[0].n as number;
  const deviceIn = (partition: number) => {
    for (;;) {
      const d = `dev-${uuidv7().replace(/-/g, '')}`;
      if (partitionOf(d, PARTITIONS) === partition) return d;
    }
  };

  it('two persisters own disjoint partitions, half each, and together all of them', async () => {
    const a = persister('a', 2_000);
    const b = persister('b', 2_000);
    a.start();
    b.start();
    await waitFor(() => a.status().partitions.length === 2 && b.status().partitions.length === 2, {
      what: 'two partitions each',
    });
    const [pa, pb] = [a.status().partitions, b.status().partitions];
    expect([...pa, ...pb].sort()).toEqual([0, 1, 2, 3]);
    expect(await store.leaseOwners()).toEqual([0, 1, 2, 3].map((p) => (pa.includes(p) ? 'a' : 'b')));
    // One stops cleanly: the other takes its half at its next heartbeat.
    await a.stop();
    await waitFor(() => b.status().partitions.length === PARTITIONS, { what: 'b owning everything' });
  });

  it('a persister stopped inside a pass past its lease drops the pass when it resumes; the new owner writes it once', async () => {
    const errors: string[] = [];
    const { gate, persister: frozen } = await gated('frozen', 1_000, errors);
    expect(await frozen.runOnce()).toBe(0);
    expect(frozen.status().partitions).toEqual([0, 1, 2, 3]);
    const d = deviceIn(1);
    const records = [pageview(d), pageview(d), pageview(d)];
    await appendForTest(store, d, records);
    gate.arm();
    // Driven by runOnce alone, nothing renews its leases while the gate holds it: it is frozen.
    const late = frozen.runOnce();
    await waitFor(() => gate.reached, { what: 'the frozen pass inside its transaction' });
    const heir = persister('heir', 1_000);
    heir.start();
    const ids = records.map((r) => r.eventId);
    await waitFor(async () => (await rowsOf(ids)) === 3, { what: 'the heir writing the frozen pass' });
    gate.release();
    expect(await late).toBe(0);
    expect(frozen.status().partitions).toEqual([]);
    expect(await rowsOf(ids)).toBe(3);
    expect(await store.depth(1)).toBe(0);
  });

  it('a persister whose lease still looks valid but was lost in Redis cannot commit: the Postgres fence refuses it', async () => {
    const errors: string[] = [];
    const { gate, persister: stale } = await gated('stale', 60_000, errors);
    expect(await stale.runOnce()).toBe(0);
    const d = deviceIn(2);
    const records = [pageview(d), pageview(d)];
    await appendForTest(store, d, records);
    gate.arm();
    const late = stale.runOnce();
    await waitFor(() => gate.reached, { what: 'the stale pass inside its transaction' });
    // A Redis failover loses its leases and its membership; another persister takes everything.
    await services.redis!.del(
      ...Array.from({ length: PARTITIONS }, (_, p) => `${services.prefix}{p${p}}:lease`),
      `${services.prefix}{persisters}:m`,
      `${services.prefix}{persisters}:i`,
    );
    const heir = persister('heir', 60_000);
    heir.start();
    const ids = records.map((r) => r.eventId);
    await waitFor(async () => (await rowsOf(ids)) === 2, { what: 'the heir writing the entries' });
    gate.release();
    expect(await late).toBe(0);
    expect(errors.some((e) => e.startsWith('leases (fence)') && /taken over/.test(e))).toBe(true);
    expect(stale.status().partitions).not.toContain(2);
    expect(await rowsOf(ids)).toBe(2);
    const { rows } = await services.database!.client.query<{ owner: string }>(
      'select owner from partition_fences where partition = 2',
    );
    expect(rows[0]!.owner).toBe('heir');
  });

  it('a persister that cannot commit says it is stalled, then gives its partitions up, and rejoins once Postgres answers', async () => {
    const url = new URL(services.database!.url);
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    closers.push(() => proxy.close());
    const proxied = await createDb({ databaseUrl: throughProxy(services.database!.url, proxy) });
    closers.push(() => proxied.close());
    const p = persister('cut-off', 2_000, proxied);
    p.start();
    await waitFor(() => p.status().partitions.length === PARTITIONS, { what: 'every partition' });
    proxy.cut();
    const d = deviceIn(3);
    const records = [pageview(d)];
    await appendForTest(store, d, records);
    await waitFor(() => p.status().stalled, { what: 'stalled' });
    expect(p.status()).toMatchObject({ postgresUp: false, standby: false });
    // Published with its next heartbeat, for the collectors' /readyz.
    await waitFor(async () => JSON.parse((await store.members())[0]?.info ?? '{}').stalled === true, {
      what: 'stalled published',
    });
    await waitFor(() => p.status().standby, { what: 'standby' });
    expect(p.status().partitions).toEqual([]);
    expect(await store.members()).toEqual([]);
    expect(await store.leaseOwners()).toEqual([null, null, null, null]);
    proxy.restore();
    await waitFor(async () => (await rowsOf(records.map((r) => r.eventId))) === 1, { what: 'the row' });
    expect(p.status()).toMatchObject({ standby: false, stalled: false, partitions: [0, 1, 2, 3] });
  });

  it('a persister whose statements never finish is cut by statement_timeout and steps down within one lease; the row lands once the statement is fast again', async () => {
    const client = services.database!.client;
    // What a 40 s stall inside Postgres looks like: every page view insert sleeps.
    await client.query(`create function dl_test_sleep() returns trigger language plpgsql as $$
      begin perform pg_sleep(40); return new; end $$`);
    await client.query(
      'create trigger dl_test_sleep before insert on page_views for each row execute function dl_test_sleep()',
    );
    const leaseMs = 2_000;
    const timed = await createDb({
      databaseUrl: services.database!.url,
      statementTimeoutMs: leaseMs * 0.4,
      idleInTransactionTimeoutMs: leaseMs / 2,
    });
    closers.push(() => timed.close());
    const errors: string[] = [];
    const p = persister('slow', leaseMs, timed, errors);
    p.start();
    await waitFor(() => p.status().partitions.length === PARTITIONS, { what: 'every partition' });
    const d = deviceIn(1);
    const records = [pageview(d)];
    await appendForTest(store, d, records);
    const appendedAt = Date.now();
    // Long before the 40 s sleep would end: the statements are cut, and it gives its partitions up.
    await waitFor(() => p.status().standby, { what: 'standby', timeoutMs: 3 * leaseMs });
    const steppedDownAfter = Date.now() - appendedAt;
    expect(errors.some((e) => e.includes('statement timeout'))).toBe(true);
    expect(steppedDownAfter).toBeLessThan(20_000);
    expect(await rowsOf(records.map((r) => r.eventId))).toBe(0);
    await client.query('drop trigger dl_test_sleep on page_views');
    await client.query('drop function dl_test_sleep()');
    await waitFor(async () => (await rowsOf(records.map((r) => r.eventId))) === 1, { what: 'the row' });
  });

  it('entries a persister of an older version read in an owned partition are taken over within a lease time', async () => {
    const p = persister('owner', 1_000);
    p.start();
    await waitFor(() => p.status().partitions.length === PARTITIONS, { what: 'every partition' });
    const d = deviceIn(0);
    const records = [pageview(d), pageview(d)];
    // An unguarded read, as a persister without leases does, racing the owner's next pass.
    await appendForTest(store, d, records);
    await store.read(0, 'old-version', 10);
    await waitFor(async () => (await rowsOf(records.map((r) => r.eventId))) === 2, { what: 'both rows' });
    await waitFor(async () => (await store.depth(0)) === 0, { what: 'partition 0 drained' });
  });
});
