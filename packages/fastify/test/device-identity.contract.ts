/**
 * The fingerprint-join contract of DeviceStore (docs/protocol.md, Fingerprint joins), run against
 * every implementation: joins need exactly one candidate, the same network and a just-minted id; a
 * twin's own request revokes them; entries are capped, expire, and go with withdrawn consent and
 * erasure. Only keyed hashes reach the store, so the tests use made-up entry and network keys.
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

/** Registers a fresh device's fingerprint and answers its id. */
async function registered(h: StoreHarness, entry: string, network: string): Promise<string> {
  const owner = idOf(h);
  await h.store.noteMinted(owner);
  expect(await h.store.recordFingerprint({ deviceId: owner, entry, network })).toEqual({
    status: 'registered',
  });
  return owner;
}

/** A just-minted id's evidence. */
/** A device registered on a fresh entry and network, and an id minted after it there (`result`: its answer). */
async function joinedPair(h: StoreHarness) {
  const [entry, network] = [key(), key()];
  const owner = await registered(h, entry, network);
  return { entry, network, owner, ...(await minted(h, entry, network)) };
}

async function minted(h: StoreHarness, entry: string, network: string) {
  const deviceId = idOf(h);
  await h.store.noteMinted(deviceId);
  return { deviceId, result: await h.store.recordFingerprint({ deviceId, entry, network }) };
}

/** Registers the fingerprint-join contract for one implementation. */
export function deviceIdentityContract(name: string, make: MakeHarness): void {
  describe(`DeviceStore fingerprint joins: ${name}`, () => {
    const fresh = freshHarnesses(make);

    it('a just-minted id with the fingerprint of exactly one device on its network is joined to it, never told its id', async () => {
      const h = await fresh();
      const { entry, network, owner, deviceId, result } = await joinedPair(h);
      // The answer names no device: no client can obtain another's id this way.
      expect(result).toEqual({ status: 'joined' });
      expect(await identityRecords(h, deviceId)).toEqual([
        expect.objectContaining({ kind: 'edge', edge: 'join', deviceId, otherId: owner }),
      ]);
      // Evidence sent again (a retry) changes nothing and queues no second edge.
      expect(await h.store.recordFingerprint({ deviceId, entry, network })).toEqual({ status: 'already' });
      expect(await identityRecords(h, deviceId)).toEqual([]);
    });

    it('another network (another entry key) or a device not just minted makes no join', async () => {
      const h = await fresh();
      const network = key();
      const owner = await registered(h, key(), network);
      // Another network is another entry: the minted id registers on its own.
      const elsewhere = await minted(h, key(), network);
      expect(elsewhere.result).toEqual({ status: 'registered' });
      // Never seen fresh (an old id, or evidence arriving late): no join, and the fingerprint is now
      // known to belong to two live devices.
      const entry = key();
      await registered(h, entry, network);
      const old = idOf(h);
      expect(await h.store.recordFingerprint({ deviceId: old, entry, network })).toEqual({
        status: 'shared',
      });
      const next = await minted(h, entry, network);
      expect(next.result).toEqual({ status: 'shared' });
      for (const id of [owner, old, next.deviceId]) expect(await identityRecords(h, id)).toEqual([]);
    });

    it('the join window closes: an id minted longer ago than joinWindowSeconds is not joined', async () => {
      const h = await fresh({ joinWindowSeconds: 1 });
      const [entry, network] = [key(), key()];
      await registered(h, entry, network);
      const late = idOf(h);
      await h.store.noteMinted(late);
      h.passTime(1500);
      const until = Date.now() + 1100;
      await waitFor(() => Date.now() > until, { intervalMs: 50, what: 'the join window to pass' });
      expect(await h.store.recordFingerprint({ deviceId: late, entry, network })).toEqual({
        status: 'shared',
      });
      expect(await identityRecords(h, late)).toEqual([]);
    });

    it("the joined-to device's own request revokes the join and marks the fingerprint shared", async () => {
      const h = await fresh();
      const { entry, network, owner, deviceId } = await joinedPair(h);
      await later(h);
      // The other browser still exists: these were twins.
      expect(await h.store.touch(touchInput(owner))).toMatchObject({ status: 'ok' });
      const unjoin = (await identityRecords(h, owner)).filter((r) => r.kind === 'unjoin');
      expect(unjoin).toEqual([expect.objectContaining({ kind: 'unjoin', deviceId: owner })]);
      // Stored as observed: the join edge stays queued, the revocation covers its time, whatever
      // partition reaches Postgres first.
      const [join] = await identityRecords(h, deviceId);
      expect(join).toMatchObject({ kind: 'edge', edge: 'join', deviceId, otherId: owner });
      expect((unjoin[0] as { ts: number }).ts).toBeGreaterThanOrEqual((join as { ts: number }).ts);
      // Shared: never used for a join again while the entry lives.
      expect((await minted(h, entry, network)).result).toEqual({ status: 'shared' });
      // The claimant's and the owner's own requests revoke nothing more.
      await h.store.touch(touchInput(deviceId));
      await h.store.touch(touchInput(owner));
      expect(await identityRecords(h, owner)).toEqual([]);
    });

    it('a second claimant while the first is still seen revokes the join; one not seen since gives way', async () => {
      const h = await fresh();
      const [entry, network] = [key(), key()];
      const owner = await registered(h, entry, network);
      const first = await minted(h, entry, network);
      expect(first.result).toEqual({ status: 'joined' });
      await later(h);
      // The same browser cleared its storage again: the first claimant was not seen since.
      const second = await minted(h, entry, network);
      expect(second.result).toEqual({ status: 'joined' });
      expect(await identityRecords(h, second.deviceId)).toEqual([
        expect.objectContaining({ kind: 'edge', edge: 'join', deviceId: second.deviceId, otherId: owner }),
      ]);
      expect(await identityRecords(h, owner)).toEqual([]);
      // A third is minted, then the second is seen after that first request: two live browsers.
      await later(h);
      const third = idOf(h);
      await h.store.noteMinted(third);
      await later(h);
      await h.store.touch(touchInput(second.deviceId));
      expect(await h.store.recordFingerprint({ deviceId: third, entry, network })).toEqual({
        status: 'shared',
      });
      expect(await identityRecords(h, owner)).toEqual([
        expect.objectContaining({ kind: 'unjoin', deviceId: owner }),
      ]);
      expect(await identityRecords(h, third)).toEqual([]);
    });

    it('only the first fingerprint of a device counts', async () => {
      const h = await fresh();
      const network = key();
      const owner = await registered(h, key(), network);
      expect(await h.store.recordFingerprint({ deviceId: owner, entry: key(), network })).toEqual({
        status: 'already',
      });
    });

    it('new entries are capped per network per day, and other networks still register', async () => {
      const h = await fresh({ recoveryNetworkDailyCap: 2 });
      const network = key();
      await registered(h, key(), network);
      await registered(h, key(), network);
      expect((await minted(h, key(), network)).result).toEqual({ status: 'capped' });
      await registered(h, key(), key());
    });

    it('new entries are capped in all per day', async () => {
      const h = await fresh({ recoveryDailyCap: 1 });
      await registered(h, key(), key());
      expect((await minted(h, key(), key())).result).toEqual({ status: 'capped' });
    });

    it('entries expire recoveryDays after their device was last seen', async () => {
      const h = await fresh({ recoveryDays: 1 / 86_400 });
      const [entry, network] = [key(), key()];
      await registered(h, entry, network);
      h.passTime(1500);
      // Redis expires keys in real time: wait for the entry to go (memory moved its clock).
      await waitFor(async () => ((await h.keysOf('fp:{')) ?? []).length === 0, { what: 'entry expiry' });
      expect((await minted(h, entry, network)).result).toEqual({ status: 'registered' });
    });

    it('withdrawn consent deletes the entry at both ends and queues forget-edges in both partitions', async () => {
      const h = await fresh();
      const { entry, network, owner, deviceId } = await joinedPair(h);
      await identityRecords(h, deviceId);
      await h.store.withdrawRecovery(deviceId);
      for (const id of [deviceId, owner]) {
        expect(await identityRecords(h, id)).toEqual([
          expect.objectContaining({ kind: 'forget-edges', deviceId }),
        ]);
      }
      // Nothing joins this browser to its past again: the next minted id starts a new entry.
      expect((await minted(h, entry, network)).result).toEqual({ status: 'registered' });
      // And the owner's own request revokes nothing (its join is gone).
      await h.store.touch(touchInput(owner));
      expect(await identityRecords(h, owner)).toEqual([]);
    });

    it('erasing the joined-to device deletes the entry and the claimant loses its join, not its data', async () => {
      const h = await fresh();
      const { entry, network, owner, deviceId } = await joinedPair(h);
      await h.store.touch(touchInput(deviceId));
      await h.store.erase(owner);
      expect(await h.store.session(deviceId)).not.toBeNull();
      const left = await h.keysOf('fp:{');
      if (left) expect(left).toEqual([]);
      expect((await minted(h, entry, network)).result).toEqual({ status: 'registered' });
      expect(await h.store.recordFingerprint({ deviceId: owner, entry, network })).toEqual({
        status: 'erased',
      });
    });

    it('erasing the claimant deletes the entry it joined through (both ends) and leaves the owner', async () => {
      const h = await fresh();
      const { entry, network, owner, deviceId } = await joinedPair(h);
      await h.store.erase(deviceId);
      const left = await h.keysOf(deviceId);
      if (left) expect(left.filter((k) => !k.includes(':t:'))).toEqual([]);
      // The owner keeps its data; its own request revokes nothing (the join is gone).
      expect(await h.store.touch(touchInput(owner))).toMatchObject({ status: 'ok' });
      expect(await identityRecords(h, owner)).toEqual([]);
      expect((await minted(h, entry, network)).result).toEqual({ status: 'registered' });
    });
  });
}
