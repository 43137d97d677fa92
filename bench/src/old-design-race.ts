/**
 * Benchmark 8: the old design beside ours under the same concurrent load on the same Redis. The old
 * counter read the session hash, added one in JavaScript and wrote it back (HGET, then HSET): two
 * page views of one device that overlap both read the same value, and one of them is lost. Ours is
 * one Lua script per page view (the store's `touch`), which Redis runs atomically: it must lose none.
 */
import { createRedisStore } from '@devicelink/fastify';
import { uuidv7 } from '@devicelink/protocol';
import { Redis } from 'ioredis';
import { clearBenchKeys } from './bench-env.js';
import { devicePool } from './load.js';
import { pct, type SectionResult } from './report.js';

/** Options of benchmark 8. */
export interface RaceOptions {
  redisUrl: string;
  /** The run's key prefix; this benchmark's keys go under `<prefix>race:` and are deleted after it. */
  prefix: string;
  full: boolean;
}

/** Page views fired at a handful of devices from several clients, `inFlight` at a time per client. */
interface Load {
  devices: string[];
  perDevice: number;
  clients: number;
  inFlight: number;
}

async function hammer(load: Load, clients: Redis[], view: (client: Redis, device: string) => Promise<void>) {
  // Every device gets `perDevice` views, interleaved across devices and clients like real traffic.
  const jobs: string[] = [];
  for (let i = 0; i < load.perDevice; i++) for (const d of load.devices) jobs.push(d);
  let next = 0;
  const worker = async (client: Redis) => {
    while (next < jobs.length) await view(client, jobs[next++]!);
  };
  const started = performance.now();
  await Promise.all(clients.flatMap((c) => Array.from({ length: load.inFlight }, () => worker(c))));
  return { seconds: (performance.now() - started) / 1000, views: jobs.length };
}

/** Runs benchmark 8. */
export async function runOldDesignRace(options: RaceOptions): Promise<SectionResult> {
  const started = performance.now();
  const load: Load = {
    devices: devicePool(20),
    perDevice: options.full ? 2_000 : 250,
    clients: 4,
    inFlight: 25,
  };
  // Several connections, as several collector workers would have.
  const clients = Array.from({ length: load.clients }, () => new Redis(options.redisUrl));
  const prefix = `${options.prefix}race:`;
  try {
    // The old design: read-modify-write in JavaScript.
    const oldKey = (d: string) => `${prefix}old:${d}`;
    const old = await hammer(load, clients, async (client, device) => {
      const current = Number((await client.hget(oldKey(device), 'pagesVisited')) ?? 0);
      await client.hset(oldKey(device), 'pagesVisited', current + 1);
    });
    let oldCounted = 0;
    for (const d of load.devices)
      oldCounted += Number((await clients[0]!.hget(oldKey(d), 'pagesVisited')) ?? 0);

    // Ours: the store's touch script, one store per client connection.
    const stores = await Promise.all(clients.map((c) => createRedisStore(c, { prefix })));
    const byClient = new Map(clients.map((c, i) => [c, stores[i]!]));
    const ours = await hammer(load, clients, async (client, device) => {
      await byClient.get(client)!.touch({
        deviceId: device,
        source: 'header',
        visitorHash: null,
        userAgent: 'bench',
        events: [
          { type: 'pageview', url: 'https://shop.example/', referrer: null, id: uuidv7(), clientTs: null },
        ],
      });
    });
    let oursCounted = 0;
    for (const d of load.devices) oursCounted += (await stores[0]!.session(d))?.pagesVisited ?? 0;

    const oldLost = old.views - oldCounted;
    const oursLost = ours.views - oursCounted;
    return {
      name: 'old-design',
      title: '8. Old design (HGET, add in JS, HSET) vs ours (Lua touch), same load, same Redis',
      figures: {
        load,
        old: {
          views: old.views,
          counted: oldCounted,
          lost: oldLost,
          lostShare: oldLost / old.views,
          seconds: old.seconds,
        },
        ours: {
          views: ours.views,
          counted: oursCounted,
          lost: oursLost,
          lostShare: oursLost / ours.views,
          seconds: ours.seconds,
        },
      },
      rows: [
        {
          design: 'old: read-modify-write',
          'page views': old.views,
          counted: oldCounted,
          lost: oldLost,
          'lost share': pct(oldLost / old.views),
          'views/s': old.views / old.seconds,
        },
        {
          design: 'ours: Lua touch',
          'page views': ours.views,
          counted: oursCounted,
          lost: oursLost,
          'lost share': pct(oursLost / ours.views),
          'views/s': ours.views / ours.seconds,
        },
      ],
      targets: [
        {
          name: 'ours loses no page view under concurrency',
          measured: `${oursLost} lost`,
          limit: '0 lost',
          met: oursLost === 0,
        },
      ],
      notes: [
        `${load.devices.length} devices, ${load.perDevice} views each, ${load.clients} connections × ${load.inFlight} in flight; ` +
          'ours also queues every view on the device partition stream (the old design queued nothing)',
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await clearBenchKeys(clients[0]!, prefix);
    for (const c of clients) c.disconnect();
  }
}
