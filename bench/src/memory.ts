/**
 * Benchmark 4: memory. Redis bytes per live session (INFO used_memory growth over the sessions the
 * scale benchmark seeded, and MEMORY USAGE of session keys), per recently active device's dedupe set
 * and per queued event (after the persister-off ingest runs), the collector's RSS under load, and the
 * RAM projected for one million active anonymous sessions. Uses what benchmarks 2 and 5 measured.
 * Also the fingerprint evidence (docs/protocol.md, Fingerprint joins): a device's identity record and its
 * index entry, made by the store's own calls for devices minted and fingerprinted here, with the projection
 * for a million. And what one fresh device id costs (a first page view, no fingerprint): the MEMORY USAGE
 * sum of the keys it makes, the bound a network minting ids can cost Redis within the new-id limits.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createRedisStore } from '@devicelink/fastify';
import type { Redis } from 'ioredis';
import type { BenchContext } from './bench-context.js';
import { fmt, type SectionResult, target } from './report.js';

const MILLION = 1_000_000;
const MiB = 2 ** 20;

const usedMemory = async (redis: Redis) =>
  Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);

/**
 * Redis bytes of fingerprint evidence: `devices` ids minted (`noteMinted`, as a first request does) and
 * each given its first fingerprint (`recordFingerprint`: a new index entry, from one of 100 networks, so
 * the per-network cap counters are in the growth too). INFO used_memory growth per device, and MEMORY
 * USAGE of the identity records and index entries, sampled.
 */
async function fingerprintBytes(ctx: BenchContext, devices: number) {
  const prefix = `${ctx.prefix}fpmem:`;
  const store = await createRedisStore(ctx.redis, {
    prefix,
    recoveryDailyCap: devices * 2,
    recoveryNetworkDailyCap: devices,
    recoveryBlockDailyPercent: 100,
  });
  const id = () => randomBytes(16).toString('base64url');
  const networks = Array.from({ length: 100 }, id);
  const before = await usedMemory(ctx.redis);
  const ids: string[] = [];
  for (let i = 0; i < devices; i++) {
    const deviceId = id();
    ids.push(deviceId);
    const network = networks[i % networks.length]!;
    // One network a place, a cap network and a block (keyed hashes, as the plugin makes them).
    await store.noteMinted(deviceId, network);
    const r = await store.recordFingerprint({
      deviceId,
      entry: id(),
      place: network,
      network,
      block: network,
    });
    if (r.status !== 'registered')
      throw new Error(`fingerprint of a new device: ${r.status}, not registered`);
  }
  const after = await usedMemory(ctx.redis);
  const sample = async (pattern: string) => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await ctx.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0' && keys.length < 200);
    const sizes = await Promise.all(keys.slice(0, 200).map((k) => ctx.redis.memory('USAGE', k)));
    return sizes.reduce<number>((a, b) => a + Number(b ?? 0), 0) / Math.max(1, sizes.length);
  };
  const figures = {
    devices,
    usedMemoryDelta: (after - before) / devices,
    record: await sample(`${prefix}{p*}:i:*`),
    entry: await sample(`${prefix}fp:*`),
  };
  // Under the run's prefix: clearKeys would take them too, but the next sections measure Redis memory.
  let cursor = '0';
  do {
    const [next, batch] = await ctx.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length) await ctx.redis.unlink(...batch);
  } while (cursor !== '0');
  return figures;
}

/** The limit of the fresh-id row, bytes (a network minting ids at its new-id limit costs this each). */
const FRESH_ID_TARGET = 400;

/**
 * MEMORY USAGE of the keys one fresh device id makes: `devices` first page views (the store's touch with
 * the collector's limits, client-minted ids, no fingerprint) from one address, after a first id from it
 * (the address's and network's counters are shared, not the id's); the partition streams left out (a
 * queued page view costs the per-event figure until persisted). Keys under a prefix one character longer
 * than the default `dl:` (`~` and a random byte: apart from other runs' keys), so the key names weigh
 * what a deployment's do.
 */
async function freshIdBytes(ctx: BenchContext, devices: number) {
  const prefix = `~${randomBytes(1).toString('hex')}:`;
  const store = await createRedisStore(ctx.redis, { prefix });
  const id = () => randomBytes(16).toString('base64url');
  const limits = (deviceId: string) => ({
    windowMs: 60_000,
    group: 'events',
    clientMax: 600,
    deviceId,
    address: '198.51.100.23',
    addressMax: 10_000_000,
    newIds: { windowMs: 60_000, perAddress: 10_000_000, perNetwork: 10_000_000, perBlock: 10_000_000 },
  });
  const pageview = () => ({
    type: 'pageview' as const,
    url: 'https://shop.example/products/1?utm_source=news',
    referrer: 'https://search.example',
    id: randomUUID(),
    clientTs: Date.now(),
  });
  const touch = (deviceId: string) =>
    store.touch({
      deviceId,
      source: 'header',
      visitorHash: null,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36',
      events: [pageview()],
      limits: limits(deviceId),
    });
  const keysOf = async () => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await ctx.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  };
  const usage = async (key: string) => Number(await ctx.redis.memory('USAGE', key, 'SAMPLES', 0));
  let bytes = 0;
  let keys = 0;
  const encodings = new Set<string>();
  try {
    await touch(id());
    for (let i = 0; i < devices; i++) {
      const deviceId = id();
      await touch(deviceId);
      const own = (await keysOf()).filter((k) => k.endsWith(`:${deviceId}`));
      keys += own.length;
      for (const k of own) {
        bytes += await usage(k);
        encodings.add(`${(await ctx.redis.type(k)) as string} ${await ctx.redis.object('ENCODING', k)}`);
      }
    }
  } finally {
    const all = await keysOf();
    if (all.length) await ctx.redis.unlink(...all);
  }
  return {
    devices,
    bytesPerId: bytes / devices,
    keysPerId: keys / devices,
    encodings: [...encodings].sort(),
  };
}

/** Runs benchmark 4 (after ingest and scale). */
export async function runMemory(ctx: BenchContext): Promise<SectionResult> {
  const started = performance.now();
  const fingerprint = await fingerprintBytes(ctx, ctx.full ? 50_000 : 10_000);
  const freshId = await freshIdBytes(ctx, ctx.full ? 1_000 : 200);
  const { sessionBytes, dedupeSetBytes, queueBytesPerEntry, rss } = ctx.shared;
  const perSession = sessionBytes?.usedMemoryDelta ?? null;
  const peakRss = Object.values(rss).length > 0 ? Math.max(...Object.values(rss)) : null;
  const projected = perSession === null ? null : perSession * MILLION;
  const projectedWithDedupe =
    perSession === null || dedupeSetBytes === undefined ? null : (perSession + dedupeSetBytes) * MILLION;
  const missing = (what: string) => `n/a (run the ${what} benchmark in the same run)`;
  const rows = [
    {
      figure: 'Redis per live session (INFO used_memory growth / sessions)',
      value: perSession === null ? missing('scale') : `${fmt(perSession)} B`,
    },
    {
      figure: 'Redis per live session (MEMORY USAGE of the session key)',
      value: sessionBytes ? `${fmt(sessionBytes.memoryUsage)} B` : missing('scale'),
    },
    {
      figure: 'dedupe set of a device active in the last 10 min (MEMORY USAGE)',
      value: dedupeSetBytes === undefined ? missing('ingest') : `${fmt(dedupeSetBytes)} B`,
    },
    {
      figure: 'Redis per queued event (stream MEMORY USAGE / XLEN)',
      value: queueBytesPerEntry === undefined ? missing('ingest') : `${fmt(queueBytesPerEntry)} B`,
    },
    {
      figure: 'fingerprint evidence per device (INFO used_memory growth / devices)',
      value: `${fmt(fingerprint.usedMemoryDelta)} B`,
    },
    {
      figure: '  of which identity record / index entry (MEMORY USAGE)',
      value: `${fmt(fingerprint.record)} B / ${fmt(fingerprint.entry)} B`,
    },
    {
      figure: 'one fresh device id, its first page view (MEMORY USAGE of its keys, stream aside)',
      value: `${fmt(freshId.bytesPerId)} B in ${fmt(freshId.keysPerId)} keys (${freshId.encodings.join(', ')})`,
    },
    {
      figure: 'collector RSS under load (peak over the runs)',
      value: peakRss === null ? missing('ingest') : `${fmt(peakRss / MiB)} MiB`,
    },
    {
      figure: '1,000,000 active anonymous sessions: Redis',
      value: projected === null ? missing('scale') : `${fmt(projected / MiB)} MiB`,
    },
    {
      figure: '  the same, all active in the last 10 min (with dedupe sets)',
      value: projectedWithDedupe === null ? 'n/a' : `${fmt(projectedWithDedupe / MiB)} MiB`,
    },
    {
      figure: '1,000,000 devices with fingerprint evidence: Redis',
      value: `${fmt((fingerprint.usedMemoryDelta * MILLION) / MiB)} MiB`,
    },
  ];
  return {
    name: 'memory',
    title: '4. Memory: Redis per session and per queued event, collector RSS, projection',
    figures: {
      sessionBytes,
      dedupeSetBytes,
      queueBytesPerEntry,
      collectorRssPeak: peakRss,
      collectorRssByRun: rss,
      projectedMillionSessionsBytes: projected,
      projectedMillionSessionsWithDedupeBytes: projectedWithDedupe,
      fingerprint,
      freshId,
      projectedMillionFingerprintedBytes: fingerprint.usedMemoryDelta * MILLION,
    },
    rows,
    targets: [
      target('Redis bytes per live session', perSession, 300, ' B', '<='),
      target(
        'Redis bytes of one fresh device id (MEMORY USAGE of its keys)',
        freshId.bytesPerId,
        FRESH_ID_TARGET,
        ' B',
        '<=',
      ),
    ],
    notes: [
      'sessions are measured as seeded by the scale benchmark (one page view each, then the queue and dedupe sets ' +
        'emptied: what remains is the session hash with its TTL); ' +
        'the projection adds no queue backlog: queued events cost the per-event figure until persisted',
      'the collector RSS does not grow with the session count: sessions live in Redis',
      "fingerprint evidence lives RECOVERY_DAYS after the device was last seen, made only for a minted id's " +
        "first fingerprint and at most the store's recoveryDailyCap (default 50,000) new entries a day: a bound of " +
        'cap x days entries whatever the traffic',
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
