/**
 * What keeps the ingest path lean, asserted as mechanisms (never as times: speed is the bench's,
 * `npm run bench -- --only=ingest`): the Redis commands a page view costs, and the headers of a 202.
 */
import { hasServices, testEnv } from '@devicelink/test-env';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceId, eventsBody, useCollector } from './support/collector.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36';

describe.runIf(hasServices('redis', 'postgres'))('the ingest path on Redis', () => {
  // The bot filter on, like a deployment: its classification runs on this path too.
  const ctx = useCollector('lean-path', { BOT_FILTER: 'on', PERSISTER: 'off' }, 'redis');
  let monitor: Redis;
  let client: Redis;
  const seen: string[][] = [];
  beforeAll(async () => {
    client = new Redis(testEnv.redisUrl!);
    monitor = await client.duplicate().monitor();
    // Commands a script runs report `lua` as their source: only the client's own round trips count.
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') seen.push(args);
    });
  });
  afterAll(async () => {
    monitor.disconnect();
    await client.quit();
  });

  /** Resolves once MONITOR has reported every command sent before this call; its position in `seen`. */
  async function fence(): Promise<number> {
    // MONITOR reports in execution order: once the marker is seen, every earlier command is too.
    const marker = `lean-path-fence-${Date.now()}-${Math.random()}`;
    await client.echo(marker);
    await expect.poll(() => seen.findIndex((a) => a.includes(marker))).toBeGreaterThanOrEqual(0);
    return seen.findIndex((a) => a.includes(marker));
  }

  /**
   * The commands naming `device` while `fn` runs, fenced on both sides; the collector's background
   * probes (readiness, every second) name no device.
   */
  async function commandsOf(device: string, fn: () => Promise<unknown>): Promise<string[][]> {
    const start = await fence();
    await fn();
    const end = await fence();
    return seen.slice(start + 1, end).filter((args) => args.some((a) => a.includes(device)));
  }

  const post = (device: string, n = 1) =>
    ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        'x-device-fingerprint': device,
        cookie: `device_fp=${device}`,
        'user-agent': UA,
        'accept-language': 'en',
      },
      payload: eventsBody(n),
    });

  it('counts a page view of a known device, with its limits and dedup, in one Redis command', async () => {
    const device = deviceId();
    // The first calls load the script on the connection (EVAL): the steady state is what counts.
    for (let i = 0; i < 3; i++) expect((await post(device)).statusCode).toBe(202);
    for (const n of [1, 10]) {
      const commands = await commandsOf(device, async () =>
        expect((await post(device, n)).statusCode).toBe(202),
      );
      expect(commands.map((args) => args[0]!.toLowerCase())).toEqual(['evalsha']);
    }
  });

  it('answers a 202 with the id, its cache rules and the limit state, and nothing else', async () => {
    const device = deviceId();
    await post(device);
    const res = await post(device);
    expect(res.statusCode).toBe(202);
    const names = Object.keys(res.headers)
      .filter((h) => !['date', 'connection', 'keep-alive'].includes(h))
      .sort();
    expect(names).toEqual([
      'cache-control',
      'content-length',
      'content-type',
      'vary',
      'x-device-fingerprint',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
    ]);
    // The cookie already holds the id: nothing to set.
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});
