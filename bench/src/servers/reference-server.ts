/**
 * The pinned reference of the ingest benchmark (bench/README.md, What each figure means): what "one script
 * call per request" costs with nothing else, so the collector's figure has a floor to be judged against. Same
 * route, body parsing (Fastify's JSON parser, then the protocol's `parseEventsBody`) and response shape (202,
 * `{accepted, tracked, deviceId, sessionId}` through a response schema) as the collector; per request one
 * EVALSHA over six keys in one slot (as the collector's touch script: session, tombstone, seen ids, stream
 * and two rate-limit counters) doing HINCRBY, PEXPIRE, ZADD and XADD; ioredis auto-pipelining. Pinned: change
 * it only to keep it comparable, never to move the ratio. Run as a child process; listens on PORT, uses
 * REDIS_URL under REDIS_KEY_PREFIX.
 */
import { randomUUID } from 'node:crypto';
import { parseEventsBody, partitionOf } from '@devicelink/protocol';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const PARTITIONS = 64;
const prefix = process.env.REDIS_KEY_PREFIX ?? 'dl-ref:';
const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });

// KEYS: 1 session, 2 tombstone, 3 seen ids, 4 stream, 5 and 6 counters (all one slot).
// ARGV: 1 session id, 2 idle ms, then pairs of event id and record.
redis.defineCommand('refTouch', {
  numberOfKeys: 6,
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('HINCRBY', KEYS[1], 'n', (#ARGV - 2) / 2)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('ZADD', KEYS[3], now, ARGV[i])
  redis.call('XADD', KEYS[4], '*', 'r', ARGV[i + 1], 's', ARGV[1])
end
return n`,
});
const touch = (redis as unknown as { refTouch(...args: (string | number)[]): Promise<number> }).refTouch.bind(
  redis,
);

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
const accepted = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    tracked: { type: 'boolean' },
    deviceId: { type: 'string' },
    sessionId: { type: 'string' },
  },
} as const;

app.post(
  '/v1/events',
  { schema: { response: { 202: accepted, '4xx': { type: 'object' } } } },
  async (request, reply) => {
    const parsed = parseEventsBody(request.body);
    if (!parsed.ok) return reply.code(400).send({ code: parsed.error.code });
    const deviceId = String(request.headers['x-device-fingerprint'] ?? 'anonymous-device-id');
    const base = `${prefix}{p${partitionOf(deviceId, PARTITIONS)}}:`;
    const args: (string | number)[] = [];
    for (const e of parsed.value.events) {
      const id = e.id ?? randomUUID();
      args.push(id, JSON.stringify({ deviceId, url: e.url, referrer: e.referrer, id }));
    }
    const sessionId = randomUUID();
    // biome-ignore format: keys, then arguments
    await touch(`${base}s:${deviceId}`, `${base}t:${deviceId}`, `${base}e:${deviceId}`, `${base}q`,
    `${base}r:a`, `${base}r:b`, sessionId, 1_800_000, ...args);
    reply.code(202);
    return { accepted: parsed.value.events.length, tracked: true, deviceId, sessionId };
  },
);
app.get('/healthz', async () => ({ status: 'ok' }));

process.once('SIGTERM', () => {
  app.close().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
