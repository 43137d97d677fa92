/**
 * The plugin's bot filter (docs/protocol.md, Bots and automation): every tracked page view is queued
 * with its class, reason and network hash; fingerprint evidence of a device its user agent or its page
 * marks never reaches the store (no join, no cap counted, nothing written), on memory, Redis and a
 * Redis Cluster.
 */
import { randomBytes } from 'node:crypto';
import type { PageviewRecord } from '@devicelink/protocol';
import { hasServices, uniquePrefix, waitFor } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
import type { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createMemoryStore,
  createRedisStore,
  type DeviceLinkPluginOptions,
  type DeviceStore,
} from '../src/index.js';
import { buildTestApp, eventsBody, storeOf } from './plugin-app.js';
import { clusterClient, scanPrefix, useSingleNode } from './redis-harness.js';

const SECRET = 'a-recovery-secret-of-32-characters!';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36';
const HEADLESS = CHROME.replace('Chrome/', 'HeadlessChrome/');
const newId = () => randomBytes(16).toString('base64url');

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function appWith(
  store: DeviceStore,
  options: Partial<DeviceLinkPluginOptions> = {},
): Promise<FastifyInstance> {
  const app = await buildTestApp({ store, recovery: { secret: SECRET }, ...options }, undefined, {
    trustProxy: true,
  });
  app.post<{ Body: { visitorId: string; automation?: string[] } }>(
    '/v1/device/fingerprint',
    { config: { devicelink: true } },
    async (request, reply) =>
      reply
        .code(202)
        .send(await app.devicelink.fingerprint(request, request.body.visitorId, request.body.automation)),
  );
  open.push(app);
  return app;
}

/** Sends one page view as `userAgent` from `ip` and answers the record it queued. */
async function pageviewOf(
  app: FastifyInstance,
  userAgent: string,
  ip = '192.0.2.10',
  extra: Record<string, unknown> = {},
): Promise<PageviewRecord> {
  const deviceId = newId();
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'x-device-fingerprint': deviceId, 'user-agent': userAgent, 'x-forwarded-for': ip },
    payload: eventsBody(extra),
  });
  expect(res.statusCode).toBe(202);
  const store = storeOf(app);
  for (let p = 0; p < store.partitions; p++) {
    for (const e of await store.read(p, 'c', 100)) {
      if (e.record.kind === 'pageview' && e.record.deviceId === deviceId) return e.record;
    }
  }
  throw new Error('no page view was queued');
}

/** A browser's first visit (a minted id's fresh request), then its evidence. */
async function evidence(app: FastifyInstance, userAgent: string, payload: Record<string, unknown> = {}) {
  const headers = {
    'x-device-fingerprint': newId(),
    'user-agent': userAgent,
    'x-forwarded-for': '192.0.2.10',
  };
  await app.inject({ url: '/v1/session', headers: { ...headers, 'x-device-fresh': '1' } });
  return (
    await app.inject({
      method: 'POST',
      url: '/v1/device/fingerprint',
      headers,
      payload: { visitorId: 'visitor-of-this-model', ...payload },
    })
  ).json();
}

describe('page views and the bot filter', () => {
  it('queues each page view with its class, reason and a network hash shared by its /24', async () => {
    const store = createMemoryStore();
    open.push(store);
    const app = await appWith(store);
    const person = await pageviewOf(app, CHROME, '192.0.2.10');
    expect(person.trafficClass).toBe('human');
    expect(person.trafficReason ?? null).toBeNull();
    expect(person.networkHash).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect((await pageviewOf(app, CHROME, '192.0.2.200')).networkHash).toBe(person.networkHash);
    expect((await pageviewOf(app, CHROME, '198.51.100.1')).networkHash).not.toBe(person.networkHash);
    expect(await pageviewOf(app, 'curl/8.4.0')).toMatchObject({
      trafficClass: 'bot',
      trafficReason: 'ua:curl/',
    });
    expect(await pageviewOf(app, HEADLESS)).toMatchObject({
      trafficClass: 'automation',
      trafficReason: 'ua:headlesschrome',
    });
    expect(await pageviewOf(app, CHROME, '192.0.2.10', { automation: ['webdriver'] })).toMatchObject({
      trafficClass: 'automation',
      trafficReason: 'sdk:webdriver',
    });
    // The raw address is never queued.
    expect(JSON.stringify(person)).not.toContain('192.0.2');
  });

  it('counts an allow-listed monitor as human', async () => {
    const store = createMemoryStore();
    open.push(store);
    const app = await appWith(store, { botFilter: { allowlist: ['uptime-check'] } });
    expect(await pageviewOf(app, 'uptime-check/1.0 curl/8.4.0')).toMatchObject({
      trafficClass: 'human',
      trafficReason: 'allowlist:uptime-check',
    });
  });

  it('classifies nothing with botFilter: false, as before', async () => {
    const store = createMemoryStore();
    open.push(store);
    const app = await appWith(store, { botFilter: false });
    const record = await pageviewOf(app, 'curl/8.4.0');
    expect(record.trafficClass).toBeUndefined();
    expect(record.networkHash).toBeUndefined();
  });

  it('refuses a botFilter that is not an object or false, naming the option', async () => {
    const store = createMemoryStore();
    open.push(store);
    await expect(appWith(store, { botFilter: true as never })).rejects.toThrow(/botFilter/);
    await expect(appWith(store, { botFilter: { allowlist: [''] } })).rejects.toThrow(/botFilter\.allowlist/);
  });
});

/** The evidence contract on one backend: `dump` snapshots everything the store holds. */
function evidenceSuite(name: string, open_: () => Promise<{ store: DeviceStore; dump(): Promise<unknown> }>) {
  // Redis holds the id's record once noted; the memory store's call log has the call at once.
  const noted = (state: unknown, id: string) => Array.isArray(state) || JSON.stringify(state).includes(id);
  describe(`fingerprint evidence of a non-human device (${name})`, () => {
    it('makes no join and counts no cap: the store is left exactly as it was', async () => {
      const { store, dump } = await open_();
      const app = await appWith(store);
      // A person's evidence first: a later join would name this device.
      expect(await evidence(app, CHROME)).toEqual({ status: 'registered' });
      const headers = {
        'x-device-fingerprint': newId(),
        'user-agent': HEADLESS,
        'x-forwarded-for': '192.0.2.11',
      };
      await app.inject({ url: '/v1/session', headers: { ...headers, 'x-device-fresh': '1' } });
      // The minted note rides the answer unawaited: the snapshot waits for it (else it lands after).
      const before = await waitFor(
        async () => {
          const state = await dump();
          return noted(state, headers['x-device-fingerprint']) ? state : null;
        },
        { what: 'the minted id noted' },
      );
      for (const [userAgent, payload] of [
        [HEADLESS, {}],
        ['python-requests/2.31.0', {}],
        [CHROME, { automation: ['webdriver'] }],
      ] as const) {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/device/fingerprint',
          headers: { ...headers, 'user-agent': userAgent },
          payload: { visitorId: 'visitor-of-this-model', ...payload },
        });
        expect(res.json()).toEqual({ status: 'non-human' });
      }
      expect(await dump()).toEqual(before);
      // A person of the same model and network still joins the first one: nothing took its place.
      expect(await evidence(app, CHROME)).toEqual({ status: 'joined' });
    });
  });
}

evidenceSuite('memory', async () => {
  const memory = createMemoryStore();
  open.push(memory);
  // The memory store's join index is private: every call that could join, count a cap or open a join
  // window is seen on its way in instead.
  const calls: string[] = [];
  const store = new Proxy(memory, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (key === 'recordFingerprint' || key === 'noteMinted') calls.push(String(key));
        return value.apply(target, args);
      };
    },
  });
  return { store, dump: async () => [...calls] };
});

describe.runIf(hasServices('redis'))('on Redis', () => {
  const prefixes: string[] = [];
  const redis = useSingleNode(() => prefixes);
  evidenceSuite('Redis', async () => {
    const prefix = uniquePrefix('plugin-bots');
    prefixes.push(prefix);
    const store = await createRedisStore(redis(), { prefix, partitions: 4 });
    return {
      store,
      async dump() {
        const keys = (await scanPrefix(redis(), prefix)).sort();
        const values: Record<string, unknown> = {};
        for (const key of keys) values[key] = await redis().dump(key);
        return values;
      },
    };
  });
});

// Seeds of the three-node cluster started by redis-cluster.global-setup.ts (null: skipped, it said why).
const seeds = inject('redisClusterNodes');

describe.runIf(seeds !== null)('on a Redis Cluster (three nodes)', () => {
  let cluster: Cluster;
  const prefixes: string[] = [];
  beforeAll(() => {
    cluster = clusterClient(seeds!);
  });
  afterAll(async () => {
    for (const p of prefixes) for (const key of await scanPrefix(cluster, p)) await cluster.del(key);
    await cluster.quit();
  });
  evidenceSuite('Redis Cluster', async () => {
    const prefix = uniquePrefix('plugin-bots-cluster');
    prefixes.push(prefix);
    const store = await createRedisStore(cluster, { prefix, partitions: 4 });
    return {
      store,
      async dump() {
        // Every key of the store on every master, with its value: a join, a cap counter or a join
        // window would add or change one.
        const keys = (await scanPrefix(cluster, prefix)).sort();
        const values: Record<string, unknown> = {};
        for (const key of keys) values[key] = await cluster.dump(key);
        return values;
      },
    };
  });
});
