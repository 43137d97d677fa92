/**
 * HTTP against collector processes (started with `startCollectorProcess` of @devicelink/test-env):
 * keep-alive agents, one JSON request, a load of page views, and the rows they became.
 */
import { Agent, request } from 'node:http';
import { uuidv7 } from '@devicelink/protocol';
import { waitFor } from '@devicelink/test-env';
import type pg from 'pg';
import { ADMIN_TOKEN } from './collector.js';

/** A keep-alive agent with at most `connections` sockets. */
export function httpAgent(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections });
}

/** One HTTP request; resolves with status and parsed JSON body. */
export function httpJson(
  port: number,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: options.agent,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          let body: unknown = null;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** `total` page views for one device, over `connections` keep-alive connections spread across `ports`. */
export async function loadPageviews(ports: number[], device: string, total: number, connections: number) {
  const agents = ports.map(() => httpAgent(Math.ceil(connections / ports.length)));
  try {
    return await Promise.all(
      Array.from({ length: total }, (_, i) =>
        httpJson(ports[i % ports.length]!, 'POST', '/v1/events', {
          agent: agents[i % ports.length],
          headers: { 'x-device-fingerprint': device },
          body: { events: [{ type: 'pageview', url: `/p/${i}`, id: uuidv7() }] },
        }),
      ),
    );
  } finally {
    for (const a of agents) a.destroy();
  }
}

/** Page-view rows of a device in Postgres. */
export async function pageViewRows(client: pg.Client, device: string): Promise<number> {
  const r = await client.query('select count(*)::int as n from page_views where device_id = $1', [device]);
  return r.rows[0].n;
}

/** How many page views the live session of `device` counted, read from the admin route on `port`. */
export async function livePagesVisited(port: number, device: string): Promise<number> {
  const detail = await httpJson(port, 'GET', `/v1/admin/devices/${device}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return detail.body.liveSession.pagesVisited;
}

/** Waits (up to a minute) until `device` has exactly `n` page-view rows in Postgres. */
export async function waitForPageViewRows(client: pg.Client, device: string, n: number): Promise<void> {
  await waitFor(async () => (await pageViewRows(client, device)) === n, {
    what: `${n} rows`,
    timeoutMs: 60_000,
  });
}
