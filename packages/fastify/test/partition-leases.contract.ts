/**
 * The PartitionLeases contract (docs/protocol.md, Persistence), with the queue calls a lease guards,
 * written once and run against every implementation. Expiry is real time on Redis (short leases and
 * `waitFor`) and an injected clock on the memory store (`passTime`).
 */
import { isLeaseLostError, partitionOf } from '@devicelink/protocol';
import { waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import { freshHarnesses, type MakeHarness, userPageview } from './store-harness.js';

const LEASE_MS = 300;

const refused = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (err: unknown) => isLeaseLostError(err),
  );

/** Registers the PartitionLeases contract for one implementation. */
export function partitionLeasesContract(name: string, make: MakeHarness): void {
  describe(`PartitionLeases contract: ${name}`, () => {
    const fresh = freshHarnesses(make);

    it('a lease is exclusive until its holder releases it', async () => {
      const { store } = await fresh({ partitions: 4 });
      expect(await store.acquireLease(1, 'a', 60_000)).toBe(true);
      expect(await store.acquireLease(1, 'b', 60_000)).toBe(false);
      expect(await store.acquireLease(1, 'a', 60_000)).toBe(true);
      expect(await store.renewLease(1, 'b', 60_000)).toBe(false);
      expect(await store.releaseLease(1, 'b')).toBe(false);
      expect(await store.leaseOwners()).toEqual([null, 'a', null, null]);
      expect(await store.releaseLease(1, 'a')).toBe(true);
      expect(await store.acquireLease(1, 'b', 60_000)).toBe(true);
      expect(await store.renewLease(1, 'b', 60_000)).toBe(true);
      expect(await store.leaseOwners()).toEqual([null, 'b', null, null]);
    });

    it('a lease not renewed expires and another member can take it', async () => {
      const h = await fresh({ partitions: 2 });
      expect(await h.store.acquireLease(0, 'frozen', LEASE_MS)).toBe(true);
      h.passTime(LEASE_MS + 1);
      await waitFor(() => h.store.acquireLease(0, 'alive', 60_000), { what: 'the expired lease' });
      expect(await h.store.renewLease(0, 'frozen', 60_000)).toBe(false);
      expect((await h.store.leaseOwners())[0]).toBe('alive');
    });

    it('members are listed by name while their heartbeat lasts, and leave at once', async () => {
      const h = await fresh();
      expect(await h.store.heartbeat('b', 60_000, '{"n":1}')).toEqual([{ member: 'b', info: '{"n":1}' }]);
      await h.store.heartbeat('short', LEASE_MS, '{}');
      const all = await h.store.heartbeat('a', 60_000, '{}');
      expect(all.map((m) => m.member)).toEqual(['a', 'b', 'short']);
      await h.store.leave('b');
      h.passTime(LEASE_MS + 1);
      await waitFor(async () => (await h.store.members()).length === 1, { what: 'the heartbeat to expire' });
      expect((await h.store.members()).map((m) => m.member)).toEqual(['a']);
    });

    it('only the lease holder reads a guarded partition or acknowledges in it', async () => {
      const { store, append } = await fresh();
      const key = 'user-leased';
      const p = partitionOf(key, store.partitions);
      await append(key, [userPageview(key)]);
      expect(await refused(store.read(p, 'owner', 10, { leased: true }))).toBe(true);
      await store.acquireLease(p, 'owner', 60_000);
      expect(await refused(store.read(p, 'zombie', 10, { leased: true }))).toBe(true);
      const [entry] = await store.read(p, 'owner', 10, { leased: true });
      expect(entry).toBeDefined();
      expect(await refused(store.ack(p, [entry!.id], { owner: 'zombie' }))).toBe(true);
      expect(await store.depth(p)).toBe(1);
      await store.ack(p, [entry!.id], { owner: 'owner' });
      expect(await store.depth(p)).toBe(0);
    });

    it('a consumer re-reads its own pending entries, and only its own, until they are acknowledged', async () => {
      const { store, append } = await fresh();
      const key = 'user-pending';
      const p = partitionOf(key, store.partitions);
      await append(key, [userPageview(key), userPageview(key)]);
      const first = await store.read(p, 'c1', 1);
      const second = await store.read(p, 'c2', 1);
      expect(await store.read(p, 'c1', 10, { pending: true })).toEqual(first);
      expect(await store.read(p, 'c2', 10, { pending: true })).toEqual(second);
      await store.ack(
        p,
        first.map((e) => e.id),
      );
      expect(await store.read(p, 'c1', 10, { pending: true })).toEqual([]);
    });

    it('the new lease holder takes over every pending entry at once and the other consumers are gone', async () => {
      const h = await fresh();
      const { store, append } = h;
      const key = 'user-takeover';
      const p = partitionOf(key, store.partitions);
      await append(key, [userPageview(key), userPageview(key), userPageview(key)]);
      const dead = [...(await store.read(p, 'dead-1', 1)), ...(await store.read(p, 'dead-2', 1))];
      expect(await refused(store.takeOver(p, 'heir'))).toBe(true);
      await store.acquireLease(p, 'heir', 60_000);
      const done = await store.takeOver(p, 'heir');
      expect(done.claimed).toBe(2);
      const taken = await store.read(p, 'heir', 10, { pending: true, leased: true });
      expect(taken.map((e) => e.id)).toEqual(dead.map((e) => e.id));
      // The dead consumers hold nothing now: removing them changes nothing and answers true.
      expect(await store.removeConsumer(p, 'dead-1')).toBe(true);
      const unread = await store.read(p, 'heir', 10, { leased: true });
      expect(unread).toHaveLength(1);
    });
  });
}
