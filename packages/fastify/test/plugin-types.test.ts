/**
 * Type tests for the request decorations, the instance decoration and the plugin options. The
 * assertions run under `tsc --noEmit` (the package typecheck); `@ts-expect-error` lines fail it when
 * a wrong use stops being an error. The runtime part only checks that the file's app registers.
 */
import Fastify, { type FastifyRequest } from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import devicelink, {
  type ConvertResult,
  corsOptions,
  createMemoryStore,
  type DeviceLinkPluginOptions,
  type DeviceSource,
  type LimitState,
  devicelink as namedDevicelink,
  type TrackResult,
} from '../src/index.js';

describe('types', () => {
  it('types request.deviceId, request.deviceSource and app.devicelink', async () => {
    const store = createMemoryStore();
    const app = Fastify();
    await app.register(devicelink, { store, cookie: { sameSite: 'none', secure: true } });
    app.get('/', { config: { devicelink: true } }, async (request) => {
      expectTypeOf(request.deviceId).toEqualTypeOf<string | null>();
      expectTypeOf(request.deviceSource).toEqualTypeOf<DeviceSource | null>();
      expectTypeOf(request.deviceSource).toEqualTypeOf<'header' | 'cookie' | 'server' | null>();
      // @ts-expect-error the id is read-only: the plugin owns it
      request.deviceId = 'x';
      return null;
    });
    expectTypeOf(app.devicelink.track).returns.resolves.toEqualTypeOf<TrackResult>();
    expectTypeOf(app.devicelink.convert).parameters.toEqualTypeOf<[string, string]>();
    expectTypeOf(app.devicelink.convert).returns.resolves.toEqualTypeOf<ConvertResult>();
    expectTypeOf(namedDevicelink).toEqualTypeOf(devicelink);
    await app.close();
    await store.close();
  });

  it('types the options', () => {
    const store = createMemoryStore();
    expectTypeOf<DeviceLinkPluginOptions['cookie']>().toEqualTypeOf<
      | { secure?: boolean; sameSite?: 'lax' | 'strict' | 'none'; domain?: string; partitioned?: boolean }
      | undefined
    >();
    expectTypeOf<DeviceLinkPluginOptions['authenticate']>().toEqualTypeOf<
      ((request: FastifyRequest) => string | null | Promise<string | null>) | undefined
    >();
    expectTypeOf<DeviceLinkPluginOptions['trackRequests']>().toEqualTypeOf<
      ((request: FastifyRequest) => boolean) | undefined
    >();
    const ok: DeviceLinkPluginOptions = { store, honorGpc: false, clientIp: (r) => r.ip };
    expectTypeOf(ok).toExtend<DeviceLinkPluginOptions>();
    // @ts-expect-error the store is required
    const noStore: DeviceLinkPluginOptions = { honorGpc: true };
    // @ts-expect-error the plugin takes one store, not a store and a queue
    const pair: DeviceLinkPluginOptions = { sessions: store, queue: store };
    // @ts-expect-error SameSite has three values
    const badSameSite: DeviceLinkPluginOptions = { store, cookie: { sameSite: 'loose' } };
    // @ts-expect-error authenticate resolves to a user id or null, not a boolean
    const badAuth: DeviceLinkPluginOptions = { store, authenticate: async () => true };
    void [noStore, pair, badSameSite, badAuth];
  });

  it('types route opt-in and the TrackResult union', () => {
    const app = Fastify();
    app.get('/opted', { config: { devicelink: true } }, async () => null);
    // @ts-expect-error the opt-in is a boolean
    app.get('/wrong', { config: { devicelink: 'yes' } }, async () => null);
    const r = {} as TrackResult;
    if (r.tracked && 'deviceId' in r) {
      expectTypeOf(r.sessionId).toEqualTypeOf<string | null>();
      expectTypeOf(r.source).toEqualTypeOf<DeviceSource>();
    } else if (r.tracked) {
      expectTypeOf(r.userId).toEqualTypeOf<string>();
    } else if (r.reason === 'limited') {
      expectTypeOf(r.limit).toEqualTypeOf<LimitState>();
    } else {
      expectTypeOf(r.reason).toEqualTypeOf<'consent' | 'erased'>();
    }
    expectTypeOf(corsOptions({ origin: ['https://a.example'] }).credentials).toEqualTypeOf<true>();
    expectTypeOf(corsOptions({ origin: ['https://a.example'] }).origin).toEqualTypeOf<string[]>();
  });
});
