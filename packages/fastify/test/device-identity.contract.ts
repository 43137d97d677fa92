/**
 * The fingerprint-join contract of DeviceStore (docs/protocol.md, Fingerprint joins), run against
 * every implementation: joins need exactly one candidate, the same network and a just-minted id; a
 * twin's own request (the owner's, or a claimant's that gave way) revokes them; an id never seen
 * fresh on the network changes nothing; entries are capped per network, block and store, expire, and
 * become tombstones with withdrawn consent and erasure. Only keyed hashes reach the store, so the tests use made-up entry and network keys.
 */
import { randomBytes } from 'node:crypto';
import type { QueueRecord } from '@devicelink/protocol';
import { partitionOf } from '@devicelink/protocol';
import { waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import {
  drain,
  freshHarnesses,
  type MakeHarness,
  newDeviceId,
  type StoreHarness,
  touchInput,
} from './store-harness.js';

const key = (): string => randomBytes(16).toString('base64url');

const usedPartitions = new WeakMap<StoreHarness, Set<number>>();

/**
 * A device id whose partition no other id of the test uses, so each partition read below holds the
 * records of one device only.
 */
function idOf(h: StoreHarness): string {
  const used = usedPartitions.get(h) ?? new Set<number>();
  usedPartitions.set(h, used);
  for (;;) {
    const id = newDeviceId();
    const p = partitionOf(id, h.store.partitions);
    if (!used.has(p)) {
      used.add(p);
      return id;
    }
  }
}

/**
 * Lets a few milliseconds pass for the store (memory: its clock; Redis: real time, polled), so
 * "seen after" comparisons of server times are strict.
 */
async function later(h: StoreHarness): Promise<void> {
  h.passTime(5);
  const until = Date.now() + 5;
  await waitFor(() => Date.now() > until, { intervalMs: 2, what: 'the clock to move' });
}

/** The records of the device's partition that concern identity. */
async function identityRecords(h: StoreHarness, deviceId: string): Promise<QueueRecord[]> {
  const kinds = new Set(['edge', 'unjoin', 'forget-edges']);
  return (await drain(h.store, deviceId, `reader-${key()}`))
    .map((e) => e.record)
    .filter((r) => kinds.has(r.kind));
}

/** One piece of evidence's keys: an entry on a network (place), with its cap network and block. */
interface Evidence {
  entry: string;
  place: string;
  network: string;
  block: string;
}

/** Evidence of a fresh fingerprint; `on` puts it on the same network (place, caps) as other evidence. */
function evidence(on?: Partial<Evidence>): Evidence {
  return { entry: key(), place: key(), network: key(), block: key(), ...on };
}

/** Another fingerprint on the same network as `ev`. */
const sameNetwork = (ev: Evidence): Evidence => ({ ...ev, entry: key() });

/** An id minted (seen fresh) on the network of `ev`, and its answer to `ev`. */
async function minted(h: StoreHarness, ev: Evidence) {
  const deviceId = idOf(h);
  await h.store.noteMinted(deviceId, ev.place);
  return { deviceId, result: await h.store.recordFingerprint({ deviceId, ...ev }) };
}

/** Registers a fresh device's fingerprint and answers its id. */
async function registered(h: StoreHarness, ev: Evidence): Promise<string> {
  const { deviceId, result } = await minted(h, ev);
  expect(result).toEqual({ status: 'registered' });
  return deviceId;
}

/** A device registered on fresh evidence, and an id minted after it there (`result`: its answer). */
async function joinedPair(h: StoreHarness) {
  const ev = evidence();
  const owner = await registered(h, ev);
  return { ev, owner, ...(await minted(h, ev)) };
}

/** The `ts` of a record. */
const tsOf = (r: QueueRecord | undefined): number => (r as { ts: number }).ts;

/** Registers the fingerprint-join contract for one implementation. */
export function deviceIdentityContract(name: string, make: MakeHarness): void {
  describe(`DeviceStore fingerprint joins: ${name}`, () => {
    const fresh = freshHarnesses(make);

    it('a just-minted id with the fingerprint of exactly one device on its network is joined to it, never told its id', async () => {
      const h = await fresh();
      const { ev, owner, deviceId, result } = await joinedPair(h);
      // The answer names no device: no client can obtain another's id this way.
      expect(result).toEqual({ status: 'joined' });
      expect(await identityRecords(h, deviceId)).toEqual([
        expect.objectContaining({ kind: 'edge', edge: 'join', deviceId, otherId: owner }),
      ]);
      // Evidence sent again (a retry) changes nothing and queues no second edge.
      expect(await h.store.recordFingerprint({ deviceId, ...ev })).toEqual({ status: 'already' });
      expect(await identityRecords(h, deviceId)).toEqual([]);
    });

    it('another fingerprint on the network registers on its own', async () => {
      const h = await fresh();
      const ev = evidence();
      await registered(h, ev);
      expect((await minted(h, sameNetwork(ev))).result).toEqual({ status: 'registered' });
    });

    it('an id never seen fresh on the network changes nothing: it cannot squat, block or revoke', async () => {
      const h = await fresh();
      const ev = evidence();
      // Never seen fresh at all (an old or made-up id): no squatting a vacant entry.
      const old = idOf(h);
      expect(await h.store.recordFingerprint({ deviceId: old, ...ev })).toEqual({ status: 'stale' });
      // Seen fresh on another network: no squatting here either.
      const elsewhere = idOf(h);
      await h.store.noteMinted(elsewhere, key());
      expect(await h.store.recordFingerprint({ deviceId: elsewhere, ...ev })).toEqual({ status: 'stale' });
      const owner = await registered(h, ev);
      const first = await minted(h, ev);
      expect(first.result).toEqual({ status: 'joined' });
      // Neither can mark the entry shared nor revoke the standing join.
      for (const id of [idOf(h), elsewhere]) {
        expect(await h.store.recordFingerprint({ deviceId: id, ...ev })).toEqual({ status: 'stale' });
      }
      for (const id of [owner, old, elsewhere]) expect(await identityRecords(h, id)).toEqual([]);
      expect(await h.store.recordFingerprint({ deviceId: first.deviceId, ...ev })).toEqual({
        status: 'already',
      });
    });

    it('the join window closes: an id minted longer ago than joinWindowSeconds is not joined (the twin rule)', async () => {
      const h = await fresh({ joinWindowSeconds: 1 });
      const ev = evidence();
      await registered(h, ev);
      const late = idOf(h);
      await h.store.noteMinted(late, ev.place);
      h.passTime(1500);
      const until = Date.now() + 1100;
      await waitFor(() => Date.now() > until, { intervalMs: 50, what: 'the join window to pass' });
      // Redis lets the minted record expire with the window: nothing changes. Memory keeps it: twins.
      expect(['shared', 'stale']).toContain(
        (await h.store.recordFingerprint({ deviceId: late, ...ev })).status,
      );
      expect(await identityRecords(h, late)).toEqual([]);
    });

    it("the joined-to device's own request revokes the join and marks the fingerprint shared", async () => {
      const h = await fresh();
      const { ev, owner, deviceId } = await joinedPair(h);
      await later(h);
      // The other browser still exists: these were twins.
      expect(await h.store.touch(touchInput(owner))).toMatchObject({ status: 'ok' });
      const unjoin = (await identityRecords(h, owner)).filter((r) => r.kind === 'unjoin');
      expect(unjoin).toEqual([expect.objectContaining({ kind: 'unjoin', deviceId: owner })]);
      // Stored as observed: the join edge stays queued, the revocation covers its time, whatever
      // partition reaches Postgres first.
      const [join] = await identityRecords(h, deviceId);
      expect(join).toMatchObject({ kind: 'edge', edge: 'join', deviceId, otherId: owner });
      expect(tsOf(unjoin[0])).toBeGreaterThanOrEqual(tsOf(join));
      // Shared: never used for a join again while the entry lives.
      expect((await minted(h, ev)).result).toEqual({ status: 'shared' });
      // The claimant's and the owner's own requests revoke nothing more.
      await h.store.touch(touchInput(deviceId));
      await h.store.touch(touchInput(owner));
      expect(await identityRecords(h, owner)).toEqual([]);
    });

    it('a claimant not seen since a later claimant gives way at once: its join is revoked, the later one stands', async () => {
      const h = await fresh();
      const ev = evidence();
      const owner = await registered(h, ev);
      const first = await minted(h, ev);
      expect(first.result).toEqual({ status: 'joined' });
      const [firstJoin] = await identityRecords(h, first.deviceId);
      await later(h);
      // A second id minted there while the first was not seen since: it takes over the claim.
      const second = await minted(h, ev);
      expect(second.result).toEqual({ status: 'joined' });
      const [secondJoin] = await identityRecords(h, second.deviceId);
      expect(secondJoin).toMatchObject({ kind: 'edge', edge: 'join', otherId: owner });
      // The given-way join ends with a record at its own time; the later join is strictly after it.
      const revoked = await identityRecords(h, owner);
      expect(revoked).toEqual([expect.objectContaining({ kind: 'unjoin', deviceId: owner })]);
      expect(tsOf(revoked[0])).toBe(tsOf(firstJoin));
      expect(tsOf(secondJoin)).toBeGreaterThan(tsOf(revoked[0]));
      // The given-way claimant is seen on a request of its own: two live browsers, every join revoked.
      await later(h);
      await h.store.touch(touchInput(first.deviceId));
      const shared = await identityRecords(h, owner);
      expect(shared).toEqual([expect.objectContaining({ kind: 'unjoin', deviceId: owner })]);
      expect(tsOf(shared[0])).toBeGreaterThanOrEqual(tsOf(secondJoin));
      expect((await minted(h, ev)).result).toEqual({ status: 'shared' });
      // Seen again: nothing more to revoke.
      await h.store.touch(touchInput(first.deviceId));
      expect(await identityRecords(h, owner)).toEqual([]);
    });

    it('a browser that clears twice keeps being joined: it is the only claimant', async () => {
      const h = await fresh();
      const ev = evidence();
      const owner = await registered(h, ev);
      const ids: string[] = [];
      for (let clear = 0; clear < 3; clear++) {
        await later(h);
        const next = await minted(h, ev);
        expect(next.result).toEqual({ status: 'joined' });
        ids.push(next.deviceId);
        // The browser runs on its new id: only it is seen.
        await h.store.touch(touchInput(next.deviceId));
      }
      const [last] = await identityRecords(h, ids[2]!);
      const revocations = await identityRecords(h, owner);
      expect(revocations.map((r) => r.kind)).toEqual(['unjoin', 'unjoin']);
      for (const r of revocations) expect(tsOf(last)).toBeGreaterThan(tsOf(r));
    });

    it('a second claimant while the first is still seen revokes the join', async () => {
      const h = await fresh();
      const ev = evidence();
      const owner = await registered(h, ev);
      expect((await minted(h, ev)).result).toEqual({ status: 'joined' });
      await later(h);
      const second = await minted(h, ev);
      expect(second.result).toEqual({ status: 'joined' });
      await identityRecords(h, owner);
      // A third is minted, then the second is seen after that first request: two live browsers.
      await later(h);
      const third = idOf(h);
      await h.store.noteMinted(third, ev.place);
      await later(h);
      await h.store.touch(touchInput(second.deviceId));
      expect(await h.store.recordFingerprint({ deviceId: third, ...ev })).toEqual({ status: 'shared' });
      expect(await identityRecords(h, owner)).toEqual([
        expect.objectContaining({ kind: 'unjoin', deviceId: owner }),
      ]);
      expect(await identityRecords(h, third)).toEqual([]);
    });

    it('only the first fingerprint of a device counts', async () => {
      const h = await fresh();
      const ev = evidence();
      const owner = await registered(h, ev);
      expect(await h.store.recordFingerprint({ deviceId: owner, ...sameNetwork(ev) })).toEqual({
        status: 'already',
      });
    });

    it('new entries are capped per network per day, and other networks still register', async () => {
      const h = await fresh({ recoveryNetworkDailyCap: 2 });
      const ev = evidence();
      await registered(h, ev);
      await registered(h, sameNetwork(ev));
      expect((await minted(h, sameNetwork(ev))).result).toEqual({ status: 'capped' });
      await registered(h, evidence());
    });

    it("a flood from one block takes at most its share of the day's ceiling: other blocks still register", async () => {
      // A ceiling of 10 a day, 20% per block: a block's networks register 2 between them.
      const h = await fresh({ recoveryDailyCap: 10, recoveryBlockDailyPercent: 20 });
      const block = key();
      const answers: string[] = [];
      for (let i = 0; i < 10; i++) answers.push((await minted(h, evidence({ block }))).result.status);
      expect(answers.filter((a) => a === 'registered')).toHaveLength(2);
      expect(answers.filter((a) => a === 'capped')).toHaveLength(8);
      // The flood never reached the store's ceiling: a visitor from another block registers.
      await registered(h, evidence());
    });

    it('new entries are capped in all per day', async () => {
      const h = await fresh({ recoveryDailyCap: 1 });
      await registered(h, evidence());
      expect((await minted(h, evidence())).result).toEqual({ status: 'capped' });
    });

    it('entries expire recoveryDays after their device was last seen', async () => {
      const h = await fresh({ recoveryDays: 1 / 86_400 });
      const ev = evidence();
      await registered(h, ev);
      h.passTime(1500);
      // Redis expires keys in real time: wait for the entry to go (memory moved its clock).
      await waitFor(async () => ((await h.keysOf('fp:{')) ?? []).length === 0, { what: 'entry expiry' });
      expect((await minted(h, ev)).result).toEqual({ status: 'registered' });
    });

    it('withdrawn consent ends the join, leaves the entry a tombstone and queues forget-edges in both partitions', async () => {
      const h = await fresh();
      const { ev, owner, deviceId } = await joinedPair(h);
      await identityRecords(h, deviceId);
      await h.store.withdrawRecovery(deviceId);
      for (const id of [deviceId, owner]) {
        expect(await identityRecords(h, id)).toEqual([
          expect.objectContaining({ kind: 'forget-edges', deviceId }),
        ]);
      }
      // Nothing joins this browser to its past again, and nobody registers the entry for recoveryDays.
      expect((await minted(h, ev)).result).toEqual({ status: 'closed' });
      // And the owner's own request revokes nothing (its join is gone).
      await h.store.touch(touchInput(owner));
      expect(await identityRecords(h, owner)).toEqual([]);
    });

    it('delete-and-own is impossible: a claimant that withdraws cannot register the entry again', async () => {
      const h = await fresh();
      const { ev, deviceId } = await joinedPair(h);
      await h.store.withdrawRecovery(deviceId);
      // The attacker mints a new id on the network and sends the same fingerprint.
      expect((await minted(h, ev)).result).toEqual({ status: 'closed' });
      await h.store.erase(deviceId);
      expect((await minted(h, ev)).result).toEqual({ status: 'closed' });
    });

    it('the tombstone ends recoveryDays after the erasure', async () => {
      const h = await fresh({ recoveryDays: 1 / 86_400 });
      const { ev, deviceId } = await joinedPair(h);
      await h.store.withdrawRecovery(deviceId);
      expect((await minted(h, ev)).result).toEqual({ status: 'closed' });
      h.passTime(1500);
      await waitFor(async () => ((await h.keysOf('fp:{')) ?? []).length === 0, { what: 'tombstone expiry' });
      expect((await minted(h, ev)).result).toEqual({ status: 'registered' });
    });

    it('erasing the joined-to device leaves the entry a tombstone and the claimant loses its join, not its data', async () => {
      const h = await fresh();
      const { ev, owner, deviceId } = await joinedPair(h);
      await h.store.touch(touchInput(deviceId));
      await h.store.erase(owner);
      expect(await h.store.session(deviceId)).not.toBeNull();
      expect((await minted(h, ev)).result).toEqual({ status: 'closed' });
      expect(await h.store.recordFingerprint({ deviceId: owner, ...ev })).toEqual({ status: 'erased' });
    });

    it('erasing the claimant ends its claim (the entry a tombstone) and leaves the owner', async () => {
      const h = await fresh();
      const { ev, owner, deviceId } = await joinedPair(h);
      await h.store.erase(deviceId);
      const left = await h.keysOf(deviceId);
      if (left) expect(left.filter((k) => !k.includes(':t:'))).toEqual([]);
      // The owner keeps its data; its own request revokes nothing (the join is gone).
      expect(await h.store.touch(touchInput(owner))).toMatchObject({ status: 'ok' });
      expect(await identityRecords(h, owner)).toEqual([]);
      expect((await minted(h, ev)).result).toEqual({ status: 'closed' });
    });
  });
}
