import devicelink, { clientDeviceId, corsOptions, createRedisStore } from '@devicelink/fastify';
import cors from '@fastify/cors';
import jwt from '@fastify/jwt';
import Fastify from 'fastify';
import type { Redis } from 'ioredis';

/** A shop's API: device ids on its product routes, conversion when a user logs in. */
export async function buildShopApi(
  redis: Redis,
  jwtSecret: string,
  checkPassword: (body: unknown) => Promise<string>, // your login check: the user id, or it throws
) {
  // request.ip goes into visitorHash: trust your proxies by address (a bare hop count trusts none).
  const app = Fastify({ trustProxy: ['10.0.0.0/8'] });
  const store = await createRedisStore(redis, { partitions: 64 }); // or createMemoryStore() in one process

  await app.register(
    cors,
    corsOptions({ origin: ['https://shop.example'], allowedHeaders: ['Content-Type'] }),
  );
  await app.register(jwt, { secret: jwtSecret }); // optional: a valid token means no device work
  await app.register(devicelink, { store, cookie: { sameSite: 'lax', secure: true } });

  app.get('/products/:id', { config: { devicelink: true } }, async (request) => {
    const id: string | null = request.deviceId; // looked up on first read, at most once per request
    const source = request.deviceSource; // 'header' | 'cookie' | 'server' | null
    return { device: id !== null, source };
  });

  app.post('/login', async (request) => {
    const userId = await checkPassword(request.body);
    const deviceId = clientDeviceId(request); // the client's valid id (header, else cookie), never a server one
    if (deviceId !== null) await app.devicelink.convert(deviceId, userId);
    return { token: app.jwt.sign({ sub: userId }) };
  });
  return app;
}
