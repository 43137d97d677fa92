import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { OneLinePerRequest, prettyLogStream, requestLogSerializer } from './request-log.js';

async function logged(url: string): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const app = Fastify({
    logger: { stream: { write: (l: string) => lines.push(l) }, serializers: { req: requestLogSerializer } },
    logController: new OneLinePerRequest(),
  });
  app.get('/v1/admin/users/:userId', async () => ({ ok: true }));
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  await app.inject({ method: 'GET', url });
  await app.close();
  return lines.map((l) => JSON.parse(l)).filter((l) => l.req || l.res);
}

describe('the request log', () => {
  it('writes one line per request, with the route pattern, the status and the time, no query string', async () => {
    const lines = await logged('/v1/admin/users/alice?token=secret');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'request completed',
      req: { method: 'GET', url: '/v1/admin/users/:userId' },
      res: { statusCode: 200 },
    });
    expect(lines[0]!.responseTime).toEqual(expect.any(Number));
    expect(JSON.stringify(lines)).not.toMatch(/alice|secret/);
  });

  it('writes the request line of a failed request too, with its status', async () => {
    const lines = (await logged('/boom')).filter((l) => l.msg === 'request completed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ req: { url: '/boom' }, res: { statusCode: 500 } });
  });

  it('reads as one short line at a terminal', async () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, done) {
        out += chunk;
        done();
      },
    });
    const stream = prettyLogStream({ destination, colorize: false, translateTime: false });
    const line = (o: object) => `${JSON.stringify({ level: 30, time: 0, pid: 1, hostname: 'h', ...o })}\n`;
    stream.write(
      line({
        reqId: 'req-1',
        req: { method: 'POST', url: '/v1/events' },
        res: { statusCode: 202 },
        responseTime: 2.6,
        msg: 'request completed',
      }),
    );
    stream.write(
      line({
        req: { method: 'GET', url: '/nope' },
        res: { statusCode: 404 },
        responseTime: 1,
        code: 'DL_NOT_FOUND',
        msg: 'request refused',
      }),
    );
    stream.write(line({ msg: 'devicelink collector listening on http://127.0.0.1:8080' }));
    stream.end();
    await new Promise((r) => destination.on('finish', r));
    expect(out.trim().split('\n')).toEqual([
      expect.stringMatching(/INFO.*: POST \/v1\/events 202 \(3 ms\)$/),
      expect.stringMatching(/INFO.*: GET \/nope 404 \(1 ms\) DL_NOT_FOUND$/),
      expect.stringMatching(/INFO.*: devicelink collector listening on http:\/\/127\.0\.0\.1:8080$/),
    ]);
  });
});
