/**
 * Redis away, on a redis-server of this test's own (the shared one is never stopped): ingest answers
 * 503 DL_STORE_UNAVAILABLE with Retry-After instead of queueing the command until Redis returns (within
 * about 1 s when Redis hangs: two command timeouts of 500 ms),
 * /readyz says not ready, the collector serves again by itself once Redis is back, ioredis errors go
 * to the structured log, and a retry with the same event ids counts once even when the timed-out
 * attempt did run.
 */
import { uuidv7 } from '@devicelink/protocol';
import {
  hasServices,
  openServices,
  redisServerAvailable,
  startRedisServer,
  waitFor,
} from '@devicelink/test-env';
import { describe, expect, test } from '@devicelink/test-env/fixtures';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/collector-config.js';
import { REDIS_COMMAND_TIMEOUT_MS } from '../src/runtime/redis-client.js';
import { deviceId } from './support/collector.js';

const body = (ids: string[]) => ({
  events: ids.map((id) => ({ type: 'pageview', url: 'https://shop.test/outage', id })),
});

describe.runIf(hasServices('postgres') && redisServerAvailable())('Redis away', () => {
  async function setUp(cleanup: (fn: () => unknown) => void) {
    // AOF, as production runs it: a clean stop loses nothing that was accepted.
    const redis = await startRedisServer('outage', { aof: true });
    cleanup(() => redis.close());
    const services = await openServices('outage', { redis: false });
    cleanup(() => services.close());
    const logs: string[] = [];
    const app = await buildApp(
      loadConfig({ ...services.env, REDIS_URL: redis.url, PERSISTER: 'off', LOG_LEVEL: 'info' }),
      { logStream: { write: (line) => logs.push(line) } },
    );
    cleanup(() => app.close());
    return { redis, app, logs };
  }
  const send = (app: FastifyInstance, device: string, ids: string[]) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': device },
      payload: body(ids),
    });

  test('ingest answers 503 with Retry-After at once instead of queueing, readyz says not ready, and the collector serves again when Redis returns', async ({
    cleanup,
  }) => {
    const { redis, app, logs } = await setUp(cleanup);
    const client = app.collector.resources.redis as Redis;
    // The mechanisms: no offline queue, no re-sending, a command timeout, an error listener.
    expect(client.options).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    expect(client.options.commandTimeout).toBeGreaterThan(0);
    expect(client.listenerCount('error')).toBeGreaterThan(0);
    const device = deviceId();
    expect((await send(app, device, [uuidv7()])).statusCode).toBe(202);

    await redis.stop();
    await waitFor(() => client.status !== 'ready', { what: 'the client to see Redis gone' });
    const ids = [uuidv7(), uuidv7()];
    const refused = await send(app, device, ids);
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'DL_STORE_UNAVAILABLE' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The background probe sees it at its next round (a refused write counts at once).
    await waitFor(async () => (await app.inject({ url: '/readyz' })).statusCode === 503, {
      what: 'readyz not ready',
    });
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.json()).toMatchObject({ status: 'unavailable', storeWritable: false });
    expect(ready.json().error).toMatch(/^the store does not take writes/);
    // The reconnect attempts fail: their errors reach the structured log (not ioredis's stderr trace).
    await waitFor(() => logs.some((l) => l.includes('"msg":"Redis connection error')), {
      what: 'a logged connection error',
    });

    await redis.start();
    await waitFor(async () => (await app.inject({ url: '/readyz' })).statusCode === 200, {
      what: 'readyz after Redis returned',
    });
    // The client's retry with the same event ids counts them once.
    expect((await send(app, device, ids)).json()).toMatchObject({ accepted: 2 });
    expect((await send(app, device, ids)).json()).toMatchObject({ accepted: 0 });
    expect(await app.collector.resources.store.session(device)).toMatchObject({ pagesVisited: 3 });

    const lines = logs.map((l) => JSON.parse(l) as { msg: string; redis?: unknown; repeats?: number });
    expect(lines.some((l) => l.msg.startsWith('Redis connection error') && l.redis)).toBe(true);
    expect(lines.some((l) => l.msg === 'Redis connection restored')).toBe(true);
    // One line per cause and interval, however many reconnect attempts failed.
    expect(lines.filter((l) => l.msg.startsWith('Redis connection error')).length).toBeLessThan(5);
  });

  test('answers 503 within about 1 s while Redis hangs (two command timeouts: its own, and the one of the pipeline before it)', async ({
    cleanup,
  }) => {
    const { redis, app } = await setUp(cleanup);
    const known = deviceId();
    expect((await send(app, known, [uuidv7()])).statusCode).toBe(202);
    redis.pause();
    let resumed = false;
    cleanup(() => {
      if (!resumed) redis.resume();
    });
    // ioredis sends a pipeline only once the one before it was answered or timed out, so a request
    // arriving while another waits on the hung Redis is sent when that one times out (at most 500 ms
    // later), then times out itself: 503 within two command timeouts, never held longer.
    const answers: Array<{ status: number; ms: number }> = [];
    for (let round = 0; round < 3; round++) {
      answers.push(
        ...(await Promise.all(
          [known, deviceId(), known, deviceId()].map(async (d, i) => {
            await new Promise((resolve) => setTimeout(resolve, i * 150));
            const t = Date.now();
            const res = await send(app, d, [uuidv7()]);
            return { status: res.statusCode, ms: Date.now() - t };
          }),
        )),
      );
    }
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.ms).toBeGreaterThanOrEqual(REDIS_COMMAND_TIMEOUT_MS - 50);
      expect(a.ms).toBeLessThan(2 * REDIS_COMMAND_TIMEOUT_MS + 250);
    }
    // Some did wait behind another: the bound is two timeouts, not one.
    expect(Math.max(...answers.map((a) => a.ms))).toBeGreaterThan(REDIS_COMMAND_TIMEOUT_MS + 150);
    redis.resume();
    resumed = true;
  });

  test('a request that timed out while Redis hung, but ran when it woke, counts once when the client retries', async ({
    cleanup,
  }) => {
    const { redis, app } = await setUp(cleanup);
    const device = deviceId();
    const ids = [uuidv7()];
    // Loads the touch script (EVALSHA falls back to EVAL once), as on any collector that has served.
    expect((await send(app, deviceId(), [uuidv7()])).statusCode).toBe(202);
    redis.pause();
    let resumed = false;
    cleanup(() => {
      if (!resumed) redis.resume();
    });
    const timedOut = await send(app, device, ids);
    expect(timedOut.statusCode).toBe(503);
    expect(timedOut.json()).toMatchObject({ code: 'DL_STORE_UNAVAILABLE' });
    redis.resume();
    resumed = true;
    // The script was on the wire: it ran when Redis woke.
    await waitFor(async () => (await app.collector.resources.store.session(device))?.pagesVisited === 1, {
      what: 'the timed-out touch to run',
    });
    expect((await send(app, device, ids)).json()).toMatchObject({ accepted: 0 });
    expect(await app.collector.resources.store.session(device)).toMatchObject({ pagesVisited: 1 });
  });
});
