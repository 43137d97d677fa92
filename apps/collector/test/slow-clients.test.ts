/**
 * Slow clients on a real socket: a body trickled a byte at a time is cut by REQUEST_TIMEOUT_SECONDS
 * (408), a half-sent body by CONNECTION_TIMEOUT_SECONDS of silence, so neither holds a connection.
 */
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collector, tempDataDir } from './support/collector.js';

/** A raw connection that records what the server sent and when it closed. */
function rawClient(port: number): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk) => {
    text += chunk.toString();
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

const HEAD =
  'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n';

describe('slow clients', () => {
  const data = tempDataDir();
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await collector({
      DATA_DIR: data.dir,
      REQUEST_TIMEOUT_SECONDS: '2',
      CONNECTION_TIMEOUT_SECONDS: '1',
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
    data.remove();
  });

  it('cuts a body trickled one byte at a time, though each byte comes before the connection timeout', async () => {
    const client = rawClient(port);
    client.socket.write(HEAD);
    let sent = 0;
    // A byte every 300 ms keeps the connection busy (CONNECTION_TIMEOUT_SECONDS=1): only the request
    // timeout can end it; 200 bytes would take a minute.
    const timer = setInterval(() => {
      if (!client.socket.destroyed) client.socket.write(' ');
      sent += 1;
    }, 300);
    try {
      await client.closed;
    } finally {
      clearInterval(timer);
    }
    expect(sent).toBeLessThan(200);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
    const body = client.received().slice(client.received().indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toMatchObject({ statusCode: 408, code: 'DL_REQUEST_TIMEOUT' });
  });

  it('closes an idle keep-alive connection after CONNECTION_TIMEOUT_SECONDS, as documented', async () => {
    const client = rawClient(port);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    const answeredAt = await new Promise<number>((resolve) => {
      const check = setInterval(() => {
        if (client.received().includes('{"status":"ok"}')) {
          clearInterval(check);
          resolve(Date.now());
        }
      }, 10);
    });
    await client.closed;
    // 1 s configured; Fastify's default would hold it 72 s (the test would time out).
    expect(Date.now() - answeredAt).toBeLessThan(5_000);
  });

  it('ignores the body of a DELETE on a kept-alive connection, and the next request on it is answered', async () => {
    const client = rawClient(port);
    const body = 'ignored body';
    client.socket.write(
      `DELETE /v1/device/cookie HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    );
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (client.received().includes('{"status":"ok"}')) {
          clearInterval(check);
          resolve();
        }
      }, 10);
    });
    expect(client.received()).toMatch(/^HTTP\/1\.1 204/);
    client.socket.destroy();
  });

  it('answers a request Node cannot parse with a DL_ body too', async () => {
    const client = rawClient(port);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 400/);
    const body = client.received().slice(client.received().indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toMatchObject({ statusCode: 400, code: 'DL_INVALID_REQUEST' });
  });

  it('closes a connection whose body stops half way', async () => {
    const client = rawClient(port);
    client.socket.write(`${HEAD}{"events":[`);
    await client.closed;
    // Nothing was answered with a 2xx: the request never completed.
    expect(client.received()).not.toMatch(/^HTTP\/1\.1 2/);
  });
});
