/**
 * Whatever a client sends in the device header, the cookie, the body or their combination, the plugin
 * never throws, never answers 500 and never hands the store an invalid id (so never makes a key of
 * one): against the memory store and, when available, against Redis (keys scanned).
 */
import { DEVICE_COOKIE, isValidDeviceId } from '@devicelink/protocol';
import { hasServices, uniquePrefix } from '@devicelink/test-env';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, createRedisStore, type DeviceStore } from '../src/index.js';
import { buildTestApp } from './plugin-app.js';
import { scanPrefix, useSingleNode } from './redis-harness.js';

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
// Header-safe text (printable ASCII): what can actually arrive in an HTTP header.
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});
const idLike = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 14, maxLength: 66 });
const junk = fc.constantFrom(
  'null',
  'undefined',
  'anonymous',
  'GUEST',
  '[object Object]',
  'NaN',
  '0000000000000000',
  '',
);
const valid = fc.constantFrom(
  '0123456789abcdef0123456789abcdef',
  'Valid_Device-Id_0001',
  `${'x'.repeat(15)}y`,
);
const idValue = fc.oneof(printable, idLike, junk, valid);

const requestArb = fc.record({
  route: fc.constantFrom('events-json', 'events-beacon', 'session'),
  header: fc.option(idValue, { nil: undefined }),
  cookieHeader: fc.option(
    fc.oneof(
      idValue.map((v) => `${DEVICE_COOKIE}=${v}`),
      fc.tuple(idValue, idValue).map(([a, b]) => `${DEVICE_COOKIE}=${a}; other=1; ${DEVICE_COOKIE}=${b}`),
      printable,
    ),
    { nil: undefined },
  ),
  bodyDeviceId: fc.option(fc.oneof(idValue, fc.jsonValue()), { nil: undefined }),
  consent: fc.option(fc.oneof(fc.constant('denied'), printable), { nil: undefined }),
  gpc: fc.option(fc.constantFrom('1', '0', ' 1', 'yes'), { nil: undefined }),
  rawBody: fc.option(printable, { nil: undefined }),
});

/** The store, recording every device id it is handed. */
function recording(store: DeviceStore): { store: DeviceStore; ids: unknown[] } {
  const ids: unknown[] = [];
  // Records the ids before the call, so an id is seen even when the store rejects it.
  const seen = <T>(args: unknown[], call: () => T): T => {
    ids.push(...args);
    return call();
  };
  return {
    ids,
    store: {
      touch: (input) => seen([input.deviceId], () => store.touch(input)),
      convert: (id, user) => seen([id], () => store.convert(id, user)),
      recordEdge: (edge) => seen([edge.deviceId, edge.otherId], () => store.recordEdge(edge)),
      replaceDevice: (input) => seen([input.deviceId, input.replacedId], () => store.replaceDevice(input)),
      noteMinted: (id, place) => seen([id], () => store.noteMinted(id, place)),
      recordFingerprint: (input) => seen([input.deviceId], () => store.recordFingerprint(input)),
      withdrawRecovery: (id) => seen([id], () => store.withdrawRecovery(id)),
      queueUserEvents: (user, records, limits) => store.queueUserEvents(user, records, limits),
      limit: (limits) => store.limit(limits),
      dailySalt: (day) => store.dailySalt(day),
    },
  };
}

async function runProperty(app: FastifyInstance, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(requestArb, async (r) => {
      const headers: Record<string, string> = {};
      if (r.header !== undefined) headers['x-device-fingerprint'] = r.header;
      if (r.cookieHeader !== undefined) headers.cookie = r.cookieHeader;
      if (r.gpc !== undefined) headers['sec-gpc'] = r.gpc;
      if (r.consent !== undefined) headers['x-device-consent'] = r.consent;
      const body = {
        ...(r.bodyDeviceId !== undefined ? { deviceId: r.bodyDeviceId } : {}),
        events: [{ type: 'pageview', url: '/p' }],
      };
      const res =
        r.route === 'session'
          ? await app.inject({ url: '/v1/session', headers })
          : await app.inject({
              method: 'POST',
              url: '/v1/events',
              headers: {
                ...headers,
                'content-type': r.route === 'events-json' ? 'application/json' : 'text/plain',
              },
              payload: r.rawBody ?? JSON.stringify(body),
            });
      expect(res.statusCode).toBeLessThan(500);
      const echoed = res.headers['x-device-fingerprint'];
      if (echoed !== undefined) expect(isValidDeviceId(echoed)).toBe(true);
    }),
    { numRuns },
  );
}

describe('the plugin against any client input', () => {
  it('never throws, answers 500 or hands the memory store an invalid id', async () => {
    const stores = createMemoryStore();
    const rec = recording(stores);
    const app = await buildTestApp({
      store: rec.store,
      trackRequests: () => true,
    });
    try {
      await runProperty(app, 300);
      expect(rec.ids.length).toBeGreaterThan(0);
      expect(rec.ids.filter((id) => !isValidDeviceId(id))).toEqual([]);
    } finally {
      await app.close();
      await stores.close();
    }
  });
});

describe.runIf(hasServices('redis'))('the plugin against any client input, on Redis', () => {
  const prefix = uniquePrefix('plugin-prop');
  const redis = useSingleNode(() => [prefix]);

  it('creates Redis keys only from valid ids', async () => {
    const stores = await createRedisStore(redis(), {
      prefix,
      partitions: 8,
    });
    const rec = recording(stores);
    const app = await buildTestApp({
      store: rec.store,
      trackRequests: () => true,
    });
    try {
      await runProperty(app, 150);
    } finally {
      await app.close();
    }
    const keys = await scanPrefix(redis(), prefix);
    const deviceKeys = keys
      .map((k) => /\{p\d+\}:[a-z]:(.*)$/.exec(k.slice(prefix.length))?.[1])
      .filter((id): id is string => id !== undefined);
    expect(deviceKeys.length).toBeGreaterThan(0);
    expect(deviceKeys.filter((id) => !isValidDeviceId(id))).toEqual([]);
    expect(rec.ids.filter((id) => !isValidDeviceId(id))).toEqual([]);
  });
});
