/**
 * Partition ownership between persister processes (`node dist/server.js persist`) on real Redis and
 * Postgres, with 2 s leases: two persisters own disjoint halves; a frozen one (SIGSTOP) loses its
 * partitions to the other and, resumed, commits nothing it no longer owns; a killed one's pending
 * entries are taken over and its consumer names removed. Accepted ids against rows: 0 lost, 0
 * duplicated. Waits are generous polls, never timed assertions.
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
import { deviceId } from './support/collector.js';
import { httpAgent, httpJson } from './support/http-load.js';
import { serviceEnv } from './support/service-env.js';

const PARTITIONS = 8;
const LEASE_SECONDS = '2';

interface Readyz {
  partitions: { partition: number; owner: string | null; lagMs: number }[];
  persisters: { member: string; partitions: number; stalled: boolean }[];
}

describe.runIf(hasServices('redis', 'postgres'))('persister processes sharing the partitions', () => {
  /** An ingest-only collector, a load of page views on many devices, and the rows they became. */
  async function setUp(services: TestServices, cleanup: (fn: () => unknown) => void) {
    const env = serviceEnv(services, {
      QUEUE_PARTITIONS: String(PARTITIONS),
      PERSISTER_LEASE_SECONDS: LEASE_SECONDS,
    });
    const start = async (command: 'serve' | 'persist', extra: Record<string, string> = {}) => {
      const c = await startCollectorProcess({ ...env, ...extra }, { command });
      cleanup(() => c.kill());
      return c;
    };
    const ingest = await start('serve', { PERSISTER: 'off' });
    const agent = httpAgent(8);
    cleanup(() => agent.destroy());
    const devices = Array.from({ length: 64 }, deviceId);
    const accepted: string[] = [];
    let sending = false;
    let sender: Promise<void> = Promise.resolve();
    const send = async (i: number) => {
      const id = uuidv7();
      const r = await httpJson(ingest.port, 'POST', '/v1/events', {
        agent,
        headers: { 'x-device-fingerprint': devices[i % devices.length]! },
        body: { events: [{ type: 'pageview', url: `/o/${i}`, id }] },
      });
      if (r.status === 202) accepted.push(id);
    };
    const { client } = services.database!;
    return {
      start,
      accepted,
      readyz: async () => (await httpJson(ingest.port, 'GET', '/readyz')).body as Readyz,
      /** Sends page views in the background (8 at a time) until `stopLoad`. */
      startLoad() {
        sending = true;
        let i = 0;
        sender = Promise.all(
          Array.from({ length: 8 }, async () => {
            while (sending) await send(i++);
          }),
        ).then(() => {});
      },
      async stopLoad() {
        sending = false;
        await sender;
      },
      persisted: async () =>
        (
          await client.query(
            'select count(distinct event_id)::int as n from page_views where event_id = any($1::uuid[])',
            [accepted],
          )
        ).rows[0].n as number,
      duplicates: async () =>
        (
          await client.query(
            'select count(*)::int as n from (select event_id from page_views group by event_id having count(*) > 1) d',
          )
        ).rows[0].n as number,
      /** Waits until two persisters own partitions and none is unowned (and `also` holds); the /readyz answer. */
      async bothOwning(also: (r: Readyz) => boolean = () => true): Promise<Readyz> {
        return waitFor(
          async () => {
            const r = await this.readyz();
            return byOwner(r).size === 2 && !byOwner(r).has(null) && also(r) ? r : null;
          },
          { what: 'both persisters owning partitions', timeoutMs: 60_000 },
        );
      },
      /** Stops the load, waits until every accepted event is persisted, and checks none is there twice. */
      async stopLoadAndSettle(): Promise<void> {
        await this.stopLoad();
        await waitFor(async () => (await this.persisted()) === accepted.length, {
          what: 'every accepted event persisted',
          timeoutMs: 60_000,
        });
        expect(await this.duplicates()).toBe(0);
      },
      redis: services.redis!,
      prefix: services.prefix,
    };
  }

  /** Partition numbers each owner holds, per /readyz. */
  const byOwner = (r: Readyz) => {
    const out = new Map<string | null, number[]>();
    for (const p of r.partitions) out.set(p.owner, [...(out.get(p.owner) ?? []), p.partition]);
    return out;
  };
  const memberOf = (p: RunningProcess, r: Readyz) =>
    r.persisters.map((m) => m.member).find((m) => m.includes(`-${p.pid}-`));

  test('two persisters own disjoint halves of the partitions and persist every accepted event once', async ({
    services,
    cleanup,
  }) => {
    const s = await setUp(services, cleanup);
    const a = await s.start('persist');
    const b = await s.start('persist');
    const split = await waitFor(
      async () => {
        const r = await s.readyz();
        const owners = byOwner(r);
        return owners.size === 2 && !owners.has(null) && [...owners.values()].every((ps) => ps.length === 4)
          ? r
          : null;
      },
      { what: 'each persister owning half of the partitions', timeoutMs: 60_000 },
    );
    const owners = byOwner(split);
    expect([...owners.keys()].sort()).toEqual([memberOf(a, split), memberOf(b, split)].sort());
    const [first, second] = [...owners.values()];
    expect(first!.filter((p) => second!.includes(p))).toEqual([]);

    s.startLoad();
    await waitFor(() => s.accepted.length >= 300, { what: '300 accepted', timeoutMs: 60_000 });
    await s.stopLoadAndSettle();
  });

  test("a frozen persister's partitions move to the other, and once resumed it commits nothing it no longer owns", async ({
    services,
    cleanup,
  }) => {
    const s = await setUp(services, cleanup);
    const frozen = await s.start('persist');
    const alive = await s.start('persist');
    const split = await s.bothOwning((r) => r.persisters.length === 2);
    const frozenMember = memberOf(frozen, split)!;
    const aliveMember = memberOf(alive, split)!;
    s.startLoad();
    await waitFor(() => s.accepted.length >= 100, { what: '100 accepted', timeoutMs: 60_000 });
    frozen.child.kill('SIGSTOP');
    cleanup(() => frozen.child.kill('SIGCONT'));
    // Within the lease time (and a heartbeat), the live persister owns every partition.
    await waitFor(
      async () => {
        const r = await s.readyz();
        return r.partitions.every((p) => p.owner === aliveMember) && r.persisters.length === 1;
      },
      { what: "the frozen persister's partitions moved", timeoutMs: 60_000, intervalMs: 200 },
    );
    // Its partitions keep flowing while it stays frozen.
    const before = await s.persisted();
    await waitFor(async () => (await s.persisted()) > before + 50, {
      what: 'rows written while one persister is frozen',
      timeoutMs: 60_000,
    });
    frozen.child.kill('SIGCONT');
    // Resumed, it finds its leases gone (it commits nothing of them) and gets a share back later.
    await waitFor(() => /gave up partitions/.test(frozen.output()), {
      what: 'the resumed persister giving up its partitions',
      timeoutMs: 60_000,
    });
    await waitFor(
      async () => {
        const r = await s.readyz();
        return memberOf(frozen, r) === frozenMember && byOwner(r).get(frozenMember)?.length === 4;
      },
      { what: 'the resumed persister owning half again', timeoutMs: 60_000 },
    );
    await s.stopLoadAndSettle();
  });

  test("a killed persister's pending entries are taken over and its consumer names removed", async ({
    services,
    cleanup,
  }) => {
    const s = await setUp(services, cleanup);
    const killed = await s.start('persist');
    const survivor = await s.start('persist');
    await s.bothOwning();
    s.startLoad();
    await waitFor(() => s.accepted.length >= 200, { what: '200 accepted', timeoutMs: 60_000 });
    await killed.kill();
    await waitFor(
      async () => {
        const r = await s.readyz();
        return r.persisters.length === 1 && r.partitions.every((p) => p.owner === r.persisters[0]!.member);
      },
      { what: "the killed persister's partitions moved", timeoutMs: 60_000, intervalMs: 200 },
    );
    await s.stopLoadAndSettle();
    const member = memberOf(survivor, await s.readyz());
    for (let p = 0; p < PARTITIONS; p++) {
      const consumers = (await s.redis.xinfo('CONSUMERS', `${s.prefix}{p${p}}:q`, 'persist')) as unknown[][];
      expect(consumers.map((c) => c[1])).toEqual([member]);
    }
  });
});
