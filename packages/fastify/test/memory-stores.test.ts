import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionOf } from '@devicelink/protocol';
import { waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/memory/memory-store.js';
import { fingerprintKeys } from '../src/plugin/fingerprint-keys.js';
import { networkPrefixes } from '../src/store/network-prefixes.js';
import { appendForTest } from '../src/testing.js';
import { drain, newDeviceId, pageview, touchInput } from './store-harness.js';
import { useTempFiles } from './temp-files.js';

describe('memory stores', () => {
  const files = useTempFiles('journal');
  const journal = () => files('queue.jsonl');

  it('tells the persister its conversion look-back, so it is set once', async () => {
    const store = createMemoryStore({ conversionLookbackDays: 9 });
    expect(store.conversionLookbackDays).toBe(9);
    const byDefault = createMemoryStore();
    expect(byDefault.conversionLookbackDays).toBe(30);
    await Promise.all([store.close(), byDefault.close()]);
  });

  it('replays unacknowledged records from the journal after a crash, and not the acknowledged ones', async () => {
    const journalPath = journal();
    const a = createMemoryStore({ journalPath, partitions: 1 });
    const deviceId = newDeviceId();
    await a.touch(touchInput(deviceId));
    await a.touch(touchInput(deviceId));
    await a.convert(deviceId, 'u1');
    const delivered = await a.read(0, 'c1', 1);
    await a.ack(
      0,
      delivered.map((e) => e.id),
    );
    await a.read(0, 'c1', 1); // pending, never acknowledged: the process "crashes" here
    const before = await drain(a, deviceId, 'c2');
    // No close(): a crash does not get to clean up.
    const b = createMemoryStore({ journalPath, partitions: 1 });
    expect(await b.depth(0)).toBe(2);
    const replayed = await drain(b, deviceId, 'c3');
    expect(replayed.map((e) => e.record.kind)).toEqual(['pageview', 'link']);
    expect(replayed[1]?.record).toEqual(before[0]?.record);
    await a.close();
    await b.close();
  });

  it('keeps sequence numbers increasing across a replay', async () => {
    const journalPath = journal();
    const a = createMemoryStore({ journalPath, partitions: 1 });
    await appendForTest(a, 'k', [{ kind: 'erase', deviceId: newDeviceId(), ts: 1 }]);
    const b = createMemoryStore({ journalPath, partitions: 1 });
    await appendForTest(b, 'k', [{ kind: 'erase', deviceId: newDeviceId(), ts: 2 }]);
    const ids = (await b.read(0, 'c', 10)).map((e) => Number(e.id));
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBeGreaterThan(ids[0]!);
    await Promise.all([a.close(), b.close()]);
  });

  it('empties the journal file once everything is acknowledged', async () => {
    const journalPath = journal();
    const s = createMemoryStore({ journalPath, partitions: 2 });
    const deviceId = newDeviceId();
    await s.touch(touchInput(deviceId));
    expect(readFileSync(journalPath, 'utf8')).toContain(deviceId);
    const p = partitionOf(deviceId, 2);
    const entries = await s.read(p, 'c', 10);
    await s.ack(
      p,
      entries.map((e) => e.id),
    );
    expect(readFileSync(journalPath, 'utf8')).toBe('{"partitions":2}\n');
    await s.close();
  });

  it('ignores a torn last line left by a crash in the middle of a write', async () => {
    const journalPath = journal();
    const a = createMemoryStore({ journalPath, partitions: 1 });
    await appendForTest(a, 'k', [{ kind: 'erase', deviceId: newDeviceId(), ts: 1 }]);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(journalPath, '{"a":[0,99,{"kind":"era');
    const b = createMemoryStore({ journalPath, partitions: 1 });
    expect(await b.depth(0)).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('holds at most maxSessions live sessions, dropping the least recently touched', async () => {
    const s = createMemoryStore({ maxSessions: 3 });
    const ids = Array.from({ length: 5 }, newDeviceId);
    for (const id of ids) await s.touch(touchInput(id));
    expect(await s.session(ids[0]!)).toBeNull();
    expect(await s.session(ids[1]!)).toBeNull();
    for (const id of ids.slice(2)) expect(await s.session(id)).not.toBeNull();
    await s.close();
  });

  it('forgets an event id after the 10-minute window', async () => {
    let now = Date.now();
    const s = createMemoryStore({ now: () => now });
    const deviceId = newDeviceId();
    const input = touchInput(deviceId);
    expect(await s.touch(input)).toMatchObject({ accepted: 1 });
    now += 599_000;
    expect(await s.touch(input)).toMatchObject({ accepted: 0 });
    now += 2_000;
    expect(await s.touch(input)).toMatchObject({ accepted: 1 });
    await s.close();
  });

  it('keeps the salt of a day until the end of the next UTC day, then makes a new one', async () => {
    let now = Date.parse('2025-03-10T12:00:00Z');
    const s = createMemoryStore({ now: () => now });
    const salt = await s.dailySalt('2025-03-10');
    now = Date.parse('2025-03-11T23:59:00Z');
    expect((await s.dailySalt('2025-03-10')).equals(salt)).toBe(true);
    now = Date.parse('2025-03-12T00:00:01Z');
    expect((await s.dailySalt('2025-03-10')).equals(salt)).toBe(false);
    await s.close();
  });

  it('refuses a maxSessions that is not a positive integer', () => {
    expect(() => createMemoryStore({ maxSessions: 0 })).toThrow(/maxSessions/);
  });
});

describe('memory journal under steady traffic', () => {
  it('rewrites the journal when it is mostly acknowledged lines, keeping what is still queued', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-journal-'));
    try {
      const journalPath = join(dir, 'queue.jsonl');
      const a = createMemoryStore({ journalPath, partitions: 1 });
      // One record always stays queued, so the queue never drains and only compaction keeps the file small.
      await appendForTest(a, 'k', [{ kind: 'erase', deviceId: 'kept-device-id-0001', ts: 0 }]);
      await a.read(0, 'c', 1);
      for (let i = 0; i < 6000; i++) {
        await appendForTest(a, 'k', [{ kind: 'erase', deviceId: newDeviceId(), ts: i }]);
        const [e] = await a.read(0, 'c', 1);
        await a.ack(0, [e!.id]);
      }
      const lines = readFileSync(journalPath, 'utf8').split('\n').filter(Boolean);
      expect(lines.length).toBeLessThan(10_002);
      const b = createMemoryStore({ journalPath, partitions: 1 });
      const kept = await b.read(0, 'c', 10);
      expect(kept.map((e) => e.record)).toEqual([{ kind: 'erase', deviceId: 'kept-device-id-0001', ts: 0 }]);
      await Promise.all([a.close(), b.close()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the memory store snapshot of live sessions', () => {
  const files = useTempFiles('snapshot');
  const snapshotFile = () => files('sessions.snapshot');

  it('a store restarted after close continues the live session: same id, page count going on', async () => {
    const snapshotPath = snapshotFile();
    const a = createMemoryStore({ snapshotPath, partitions: 1 });
    const deviceId = newDeviceId();
    const first = await a.touch(touchInput(deviceId, [pageview(), pageview()]));
    await a.close();
    const b = createMemoryStore({ snapshotPath, partitions: 1 });
    const next = await b.touch(touchInput(deviceId));
    expect(next.status === 'ok' && next.session).toMatchObject({
      sessionId: first.status === 'ok' ? first.session.sessionId : 'none',
      pagesVisited: 3,
    });
    expect(next.status === 'ok' && next.newSession).toBe(false);
    await b.close();
  });

  it('writes the snapshot on its timer too, so a crash keeps the sessions up to the last tick', async () => {
    const snapshotPath = snapshotFile();
    const a = createMemoryStore({ snapshotPath, snapshotIntervalMs: 10, partitions: 1 });
    const deviceId = newDeviceId();
    const event = pageview();
    await a.touch(touchInput(deviceId, [event]));
    await waitFor(() => existsSync(snapshotPath), { what: 'the snapshot file' });
    // No close(): the process "crashes"; the restarted store still knows the session and the event id.
    const b = createMemoryStore({ snapshotPath, partitions: 1 });
    expect((await b.session(deviceId))?.pagesVisited).toBe(1);
    const again = await b.touch(touchInput(deviceId, [event]));
    expect(again.status === 'ok' && [again.accepted, again.session.pagesVisited]).toEqual([0, 1]);
    await Promise.all([a.close(), b.close()]);
  });

  it('a session that expired while the store was down is not continued', async () => {
    const snapshotPath = snapshotFile();
    let clock = Date.now();
    const a = createMemoryStore({ snapshotPath, partitions: 1, now: () => clock });
    const deviceId = newDeviceId();
    await a.touch(touchInput(deviceId));
    await a.close();
    clock += 31 * 60_000;
    const b = createMemoryStore({ snapshotPath, partitions: 1, now: () => clock });
    expect(await b.session(deviceId)).toBeNull();
    await b.close();
  });

  it('50,000 registrations from the /48s of one /32 with the default caps leave a visitor from another network registered', async () => {
    const store = createMemoryStore({ partitions: 4 });
    const secret = 'a-recovery-secret-of-32-characters!';
    const attempt = async (address: string, visitorId: string) => {
      const keys = fingerprintKeys(secret, visitorId, networkPrefixes(address)!, 'chrome');
      const deviceId = newDeviceId();
      await store.noteMinted(deviceId, keys.place);
      return (await store.recordFingerprint({ deviceId, ...keys })).status;
    };
    const counts = new Map<string, number>();
    // The attack run's shape: 396 /48s inside 2001:db8::/32, random visitorIds.
    for (let i = 0; i < 50_000; i++) {
      const status = await attempt(`2001:db8:${(i % 396).toString(16)}:1::${(i % 9) + 1}`, `v${i}`);
      counts.set(status, (counts.get(status) ?? 0) + 1);
    }
    // The block's share: 10% of the 50,000 ceiling.
    expect(counts.get('registered')).toBe(5_000);
    expect(await attempt('2001:db9:1:1::1', 'another-visitor')).toBe('registered');
    expect(await attempt('192.0.2.1', 'another-visitor')).toBe('registered');
    await store.close();
  });

  it('7,000 new ids from one /48 spread over its /64s are refused past the default network limit, 200 browsers behind one address never', async () => {
    const store = createMemoryStore({ partitions: 4 });
    const newIds = { windowMs: 600_000, perAddress: 1_000, perNetwork: 3_000, perBlock: 10_000 };
    const touch = (deviceId: string, address: string) =>
      store.touch({
        ...touchInput(deviceId),
        limits: {
          windowMs: 60_000,
          group: 'events',
          clientMax: 600,
          deviceId,
          address,
          addressMax: 6_000,
          newIds,
        },
      });
    const statuses = new Map<string, number>();
    for (let i = 0; i < 7_000; i++) {
      const { status } = await touch(newDeviceId(), `2001:db8:5:${i.toString(16)}::1`);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ ok: 3_000, limited: 4_000 });
    const browsers = Array.from({ length: 200 }, () => newDeviceId());
    for (let visit = 0; visit < 3; visit++) {
      for (const deviceId of browsers) expect((await touch(deviceId, '192.0.2.50')).status).toBe('ok');
    }
    await store.close();
  });
});
