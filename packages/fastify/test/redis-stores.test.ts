import { randomBytes } from 'node:crypto';
import { partitionOf } from '@devicelink/protocol';
import { hasServices, uniquePrefix } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import { partitionTag } from '../src/redis/redis-keys.js';
import { createRedisStore } from '../src/redis/redis-store.js';
import type { RateLimits } from '../src/store/rate-limits.js';
import { QueuePartitionsMismatchError } from '../src/store/store-errors.js';
import { scanPrefix, useSingleNode } from './redis-harness.js';
import { newDeviceId, pageview, touchInput } from './store-harness.js';

describe.runIf(hasServices('redis'))('Redis stores on a single node', () => {
  const prefixes: string[] = [];
  const prefix = () => {
    const p = uniquePrefix('fx');
    prefixes.push(p);
    return p;
  };
  const redis = useSingleNode(() => prefixes);

  it('stores the partition count at first start and refuses a different one later, naming the partitions option', async () => {
    const keyPrefix = prefix();
    await createRedisStore(redis(), { prefix: keyPrefix, partitions: 16 });
    expect(await redis().get(`${keyPrefix}config:partitions`)).toBe('16');
    await expect(createRedisStore(redis(), { prefix: keyPrefix, partitions: 16 })).resolves.toBeDefined();
    const refused = createRedisStore(redis(), { prefix: keyPrefix, partitions: 32 });
    await expect(refused).rejects.toBeInstanceOf(QueuePartitionsMismatchError);
    await expect(createRedisStore(redis(), { prefix: keyPrefix, partitions: 32 })).rejects.toThrow(
      /"partitions" is 32 .* set up with 16/,
    );
  });

  it('keeps the daily salt sealed under the saltKey (AES-256-GCM), shared by the processes with that key, until the end of the next UTC day', async () => {
    const keyPrefix = prefix();
    const saltKey = randomBytes(32);
    const day = new Date().toISOString().slice(0, 10);
    const [a, b] = await Promise.all([
      createRedisStore(redis(), { prefix: keyPrefix, partitions: 4, saltKey }),
      createRedisStore(redis(), { prefix: keyPrefix, partitions: 4, saltKey }),
    ]);
    const [sa, sb] = await Promise.all([a.dailySalt(day), b.dailySalt(day)]);
    expect(sa.equals(sb)).toBe(true);
    const keys = (await scanPrefix(redis(), keyPrefix)).filter((k) => k.includes('salt:'));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^${keyPrefix}salt:${day}:[A-Za-z0-9_-]{8}$`));
    const stored = (await redis().get(keys[0]!))!;
    // Whoever reads Redis holds ciphertext: neither the salt nor its encodings.
    expect(stored).toMatch(/^g1\./);
    for (const encoding of ['base64', 'base64url', 'hex'] as const) {
      expect(stored).not.toContain(sa.toString(encoding).slice(0, 16));
    }
    // Deleted at the end of the next UTC day (its day's requests that straddle midnight still find it).
    const endOfNextDay = Date.parse(`${day}T00:00:00Z`) + 2 * 86_400_000;
    const ttl = await redis().pttl(keys[0]!);
    expect(Date.now() + ttl).toBeGreaterThan(endOfNextDay - 5_000);
    expect(Date.now() + ttl).toBeLessThanOrEqual(endOfNextDay + 1_000);
    // Another key (a rotation) starts a salt of its own; no key stores it unsealed, as before.
    const rotated = await createRedisStore(redis(), {
      prefix: keyPrefix,
      partitions: 4,
      saltKey: randomBytes(32),
    });
    expect((await rotated.dailySalt(day)).equals(sa)).toBe(false);
    const plain = await createRedisStore(redis(), { prefix: keyPrefix, partitions: 4 });
    const unsealed = await plain.dailySalt(day);
    expect(await redis().get(`${keyPrefix}salt:${day}`)).toBe(unsealed.toString('base64'));
    // A sealed salt tampered with is refused, never used.
    const other = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const fresh = await createRedisStore(redis(), { prefix: keyPrefix, partitions: 4, saltKey });
    await fresh.dailySalt(other);
    const otherKey = keys[0]!.replace(day, other);
    const sealed = (await redis().get(otherKey))!;
    await redis().set(otherKey, `${sealed.slice(0, -4)}AAAA`, 'KEEPTTL');
    const again = await createRedisStore(redis(), { prefix: keyPrefix, partitions: 4, saltKey });
    await expect(again.dailySalt(other)).rejects.toThrow(/cannot be decrypted with this saltKey/);
  });

  it('refuses a saltKey that is not 32 bytes, naming the option', async () => {
    await expect(
      createRedisStore(redis(), { prefix: prefix(), partitions: 4, saltKey: randomBytes(16) }),
    ).rejects.toThrow(/option "saltKey" must be 32 bytes, got 16/);
  });

  it('refuses a partition count that is not a positive integer', async () => {
    await expect(createRedisStore(redis(), { prefix: prefix(), partitions: 0 })).rejects.toThrow(
      /option "partitions" must be a positive integer/,
    );
  });

  it('puts every key of a device under its partition tag, with an expiry on all but the stream', async () => {
    const keyPrefix = prefix();
    const sessions = await createRedisStore(redis(), { prefix: keyPrefix, partitions: 64 });
    const deviceId = newDeviceId();
    await sessions.touch(touchInput(deviceId));
    await sessions.recordEdge({ kind: 'cookie', deviceId, otherId: newDeviceId() });
    await sessions.convert(deviceId, 'u1');
    await sessions.touch(touchInput(deviceId));
    const tag = `${keyPrefix}${partitionTag(partitionOf(deviceId, 64))}:`;
    const keys = (await scanPrefix(redis(), keyPrefix)).filter((k) => !k.includes('config:'));
    expect(keys.sort()).toEqual(
      ['s', 'e', 'l', 'a', 'q'].map((k) => (k === 'q' ? `${tag}q` : `${tag}${k}:${deviceId}`)).sort(),
    );
    for (const key of keys) {
      const ttl = await redis().pttl(key);
      if (key.endsWith(':q')) expect(ttl).toBe(-1);
      else expect(ttl).toBeGreaterThan(0);
    }
  });

  it('keeps a live session small and reports its memory and a queued event’s (MEMORY USAGE)', async () => {
    const keyPrefix = prefix();
    const sessions = await createRedisStore(redis(), { prefix: keyPrefix, partitions: 64 });
    // A FingerprintJS id (32 hex), a server-tier visitor hash (HMAC-SHA-256, base64url), 5 page views.
    const deviceId = 'f'.repeat(8) + '0123456789abcdef0123456789ab'.slice(0, 24);
    const visitorHash = 'x'.repeat(43);
    const events = Array.from({ length: 5 }, (_, i) =>
      pageview(`https://shop.example/products/${i}?utm_source=news`),
    );
    await sessions.touch({ ...touchInput(deviceId, events), source: 'server', visitorHash });
    const tag = `${keyPrefix}${partitionTag(partitionOf(deviceId, 64))}:`;
    const usage = async (key: string) => Number(await redis().call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    const session = await usage(`${tag}s:${deviceId}`);
    const seen = await usage(`${tag}e:${deviceId}`);
    const stream = await usage(`${tag}q`);
    // Per queued event: the stream's growth from 5 to 105 entries, divided by 100.
    await sessions.touch({
      ...touchInput(
        deviceId,
        Array.from({ length: 100 }, (_, i) => pageview(`https://shop.example/p/${i}`)),
      ),
      source: 'server',
      visitorHash,
    });
    const perEvent = ((await usage(`${tag}q`)) - stream) / 100;
    console.info(
      `[memory] live session hash ${session} B; event-id window (5 ids) ${seen} B; queued page view ≈ ${perEvent.toFixed(0)} B`,
    );
    expect(session).toBeLessThanOrEqual(300);
  });

  it('a first page view of a new id makes two keys of its own: its session hash (a listpack that holds its page-view counter) and its seen ids', async () => {
    const keyPrefix = prefix();
    const store = await createRedisStore(redis(), { prefix: keyPrefix, partitions: 64 });
    const limits = (deviceId: string): RateLimits => ({
      windowMs: 60_000,
      group: 'events',
      clientMax: 3,
      deviceId,
      address: '192.0.2.7',
      addressMax: 100,
      newIds: { windowMs: 60_000, perAddress: 100, perNetwork: 100, perBlock: 100 },
    });
    // Another id from the same address first: the address's and the network's counters are theirs.
    await store.touch({ ...touchInput(newDeviceId()), limits: limits(newDeviceId()) });
    const before = new Set(await scanPrefix(redis(), keyPrefix));
    const deviceId = newDeviceId();
    const first = await store.touch({ ...touchInput(deviceId), limits: limits(deviceId) });
    expect(first).toMatchObject({ status: 'ok', limit: { max: 3, remaining: 2 } });
    const tag = `${keyPrefix}${partitionTag(partitionOf(deviceId, 64))}:`;
    const made = (await scanPrefix(redis(), keyPrefix)).filter((k) => !before.has(k) && !k.endsWith(':q'));
    expect(made.sort()).toEqual([`${tag}e:${deviceId}`, `${tag}s:${deviceId}`]);
    const session = `${tag}s:${deviceId}`;
    expect(await redis().object('ENCODING', session)).toBe('listpack');
    expect(await redis().hget(session, 'c')).toBe('1');
    // The sliding expiry of the session, not the counter's shorter window.
    expect(await redis().pttl(session)).toBeGreaterThan(60_000);
    // The counter in the hash still refuses past its limit, and a refused call writes nothing.
    for (let i = 0; i < 2; i++) await store.touch({ ...touchInput(deviceId), limits: limits(deviceId) });
    const refused = await store.touch({ ...touchInput(deviceId), limits: limits(deviceId) });
    expect(refused).toMatchObject({ status: 'limited', by: 'client', limit: { remaining: 0 } });
    expect(await store.session(deviceId)).toMatchObject({ pagesVisited: 3 });
  });

  it('reports the memory of a fingerprint entry and of the identity records of a join (MEMORY USAGE)', async () => {
    const keyPrefix = prefix();
    const store = await createRedisStore(redis(), { prefix: keyPrefix, partitions: 64 });
    const [owner, claimant] = [newDeviceId(), newDeviceId()];
    // Keyed hashes as the plugin makes them: 128 bits, base64url.
    const entry = randomBytes(16).toString('base64url');
    const [place, network, block] = [0, 1, 2].map(() => randomBytes(16).toString('base64url')) as [
      string,
      string,
      string,
    ];
    for (const id of [owner, claimant]) {
      await store.noteMinted(id, place);
      await store.recordFingerprint({ deviceId: id, entry, place, network, block });
    }
    const usage = async (key: string) => Number(await redis().call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    const record = (id: string) => `${keyPrefix}${partitionTag(partitionOf(id, 64))}:i:${id}`;
    const [entryBytes, ownerBytes, claimantBytes] = await Promise.all([
      usage(`${keyPrefix}fp:{${entry}}`),
      usage(record(owner)),
      usage(record(claimant)),
    ]);
    console.info(
      `[memory] fingerprint entry (joined) ${entryBytes} B; identity record: owner ${ownerBytes} B, claimant ${claimantBytes} B`,
    );
    // Per registered device about an entry and a record: bounded by the caps, not by traffic.
    expect(entryBytes + ownerBytes).toBeLessThanOrEqual(600);
  });
});
