/**
 * visitorHash across collectors, and the raw client IP: two plugin instances on one store hash the
 * same visitor alike; after a run of every kind of request, no store key or value holds the raw IP
 * (memory store: everything it hands out; Redis: a SCAN of the test prefix and every value).
 */
import { hasServices, uniquePrefix, waitFor } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, createRedisStore, type DeviceAdmin, type DeviceStore } from '../src/index.js';
import { buildTestApp, COOKIE_ID, eventsBody, HEADER_ID } from './plugin-app.js';
import { scanPrefix, useSingleNode } from './redis-harness.js';

const IP = '198.51.100.73';
const visitor = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Test/1.0',
  'accept-language': 'de-CH,de;q=0.9',
};

interface Stores {
  store: DeviceStore & DeviceAdmin;
}

async function serverSession(app: FastifyInstance, store: DeviceAdmin, remoteAddress: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: visitor,
    remoteAddress,
    payload: eventsBody(),
  });
  expect(res.json()).toMatchObject({ tracked: true, source: 'server' });
  const session = await store.session(res.json().deviceId);
  return { deviceId: res.json().deviceId as string, visitorHash: session?.visitorHash ?? null };
}

/** Every kind of request the plugin handles, from {@link IP}. */
async function traffic(stores: Stores): Promise<string[]> {
  const app = await buildTestApp(
    {
      ...stores,
      trackRequests: () => true,
      authenticate: async (r) => (r.headers['x-test-user'] === 'u1' ? 'u1' : null),
    },
    undefined,
    { trustProxy: true },
  );
  const ids: string[] = [];
  try {
    const post = (headers: Record<string, string>, extra: Record<string, unknown> = {}) =>
      app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...visitor, 'x-forwarded-for': IP, ...headers },
        payload: eventsBody(extra),
      });
    ids.push((await post({})).json().deviceId);
    await post({ 'x-device-fingerprint': HEADER_ID, cookie: `device_fp=${COOKIE_ID}` });
    await post({ 'x-device-consent': 'denied' });
    await post({ 'x-test-user': 'u1' });
    const session = await app.inject({ url: '/v1/session', headers: { ...visitor, 'x-forwarded-for': IP } });
    const sessionId: string = session.json().deviceId;
    ids.push(sessionId);
    await app.inject({
      url: '/v1/session',
      headers: { ...visitor, 'x-forwarded-for': IP, cookie: `device_fp=${sessionId}` },
    });
    // trackRequests counts after the reply: wait until both requests are in the store.
    await waitFor(async () => ((await stores.store.session(sessionId))?.pagesVisited ?? 0) >= 2, {
      what: 'trackRequests page views',
    });
  } finally {
    await app.close();
  }
  return [...ids, HEADER_ID, COOKIE_ID];
}

function suite(name: string, make: () => Promise<Stores & { dump(ids: string[]): Promise<string> }>) {
  describe(name, () => {
    it('two plugin instances sharing one store compute the same visitorHash for the same IP, UA and language', async () => {
      const stores = await make();
      const a = await buildTestApp(stores, (f) => {
        // What the collector's rate limiter would key on: the same hash, straight from the request.
        f.get('/hash', async (request) => f.devicelink.visitorHash(request));
      });
      const b = await buildTestApp(stores);
      try {
        const first = await serverSession(a, stores.store, IP);
        const second = await serverSession(b, stores.store, IP);
        const other = await serverSession(b, stores.store, '198.51.100.74');
        expect(first.deviceId).not.toBe(second.deviceId);
        expect(first.visitorHash).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(second.visitorHash).toBe(first.visitorHash);
        expect(other.visitorHash).not.toBe(first.visitorHash);
        const direct = await a.inject({ url: '/hash', headers: visitor, remoteAddress: IP });
        expect(direct.body).toBe(first.visitorHash);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('keeps no raw client IP in any store key or value', async () => {
      const stores = await make();
      const ids = await traffic(stores);
      // The IP really was used (through trustProxy): the server-tier session carries its hash.
      const direct = await buildTestApp(stores);
      const expected = await serverSession(direct, stores.store, IP);
      await direct.close();
      expect((await stores.store.session(ids[0]!))?.visitorHash).toBe(expected.visitorHash);
      const dump = await stores.dump(ids);
      expect(dump).toContain(HEADER_ID);
      expect(dump).not.toContain(IP);
    });
  });
}

suite('on the memory store', async () => {
  const store = createMemoryStore();
  return {
    store,
    async dump(ids) {
      const parts: unknown[] = [];
      for (let p = 0; p < store.partitions; p++) parts.push(await store.read(p, 'dump', 1000));
      for (const id of ids) parts.push(await store.session(id));
      return JSON.stringify(parts);
    },
  };
});

describe.runIf(hasServices('redis'))('on Redis', () => {
  const prefixes: string[] = [];
  const redis = useSingleNode(() => prefixes);

  suite('a single node', async () => {
    const prefix = uniquePrefix('plugin-privacy');
    prefixes.push(prefix);
    const store = await createRedisStore(redis(), { prefix, partitions: 8 });
    return {
      store,
      async dump() {
        const out: unknown[] = [];
        for (const key of await scanPrefix(redis(), prefix)) {
          const type = await redis().type(key);
          const value =
            type === 'string'
              ? await redis()
                  .getBuffer(key)
                  .then((b) => [b?.toString('utf8'), b?.toString('base64')])
              : type === 'hash'
                ? await redis().hgetall(key)
                : type === 'zset'
                  ? await redis().zrange(key, 0, -1, 'WITHSCORES')
                  : type === 'stream'
                    ? await redis().xrange(key, '-', '+')
                    : type === 'set'
                      ? await redis().smembers(key)
                      : type === 'list'
                        ? await redis().lrange(key, 0, -1)
                        : `unknown type ${type}`;
          out.push(key, value);
        }
        return JSON.stringify(out);
      },
    };
  });
});
