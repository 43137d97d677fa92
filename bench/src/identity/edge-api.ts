/**
 * The app's own API of the logout row, as the plugin's README shows it: Fastify with @fastify/cors
 * through `corsOptions()` for the app's origin and `@devicelink/fastify` on a memory store, so it keeps
 * its own host-only `device_fp` cookie and echoes the id (the SDK's axios glue adopts echoes while an
 * id is fresh). `GET /api/me` (opted in) answers the id the plugin resolved; every request's id,
 * source, marker and cookie are kept, for the judging of what the API saw.
 */
import devicelink, { corsOptions, createMemoryStore } from '@devicelink/fastify';
import { DEVICE_COOKIE } from '@devicelink/protocol';
import cors from '@fastify/cors';
import Fastify from 'fastify';

/** One request the API answered on `/api/me`. */
export interface ApiRequest {
  /** The run it belongs to (`?run=`). */
  run: string;
  /** The person of the run (`?person=`), 1 before the logout, 2 after. */
  person: string;
  deviceId: string | null;
  source: string | null;
  /** `X-Device-Fingerprint` and `X-Device-Replaces` it carried, and its `device_fp` cookie. */
  sent: string | null;
  replaces: string | null;
  cookie: string | null;
}

/** The running API. */
export interface EdgeApi {
  port: number;
  /** Every `/api/me` request, in order. */
  seen: ApiRequest[];
  close(): Promise<void>;
}

const COOKIE = new RegExp(`(?:^|;\\s*)${DEVICE_COOKIE}=([^;]*)`);
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? null;

/** Starts the API on 127.0.0.1 allowing `appOrigin` (read per request: known once the app listens). */
export async function startEdgeApi(appOrigin: () => string): Promise<EdgeApi> {
  const app = Fastify();
  const seen: ApiRequest[] = [];
  await app.register(
    cors,
    corsOptions({
      origin: (origin: string | undefined, done: (e: null, ok: boolean) => void) =>
        done(null, origin === appOrigin()),
    }),
  );
  await app.register(devicelink, { store: createMemoryStore() });
  app.get('/api/me', { config: { devicelink: true } }, async (request) => {
    const query = request.query as { run?: string; person?: string };
    const cookie = COOKIE.exec(request.headers.cookie ?? '')?.[1] ?? null;
    seen.push({
      run: query.run ?? '',
      person: query.person ?? '',
      deviceId: request.deviceId,
      source: request.deviceSource,
      sent: one(request.headers['x-device-fingerprint']),
      replaces: one(request.headers['x-device-replaces']),
      cookie,
    });
    return { deviceId: request.deviceId, source: request.deviceSource };
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: Number(new URL(address).port), seen, close: () => app.close() };
}
