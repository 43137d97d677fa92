/**
 * Collectors as child processes (`node apps/collector/dist/server.js`) on free ports, for tests of
 * several collectors, crashes (SIGKILL) and restarts. Needs the build (turbo's test task depends on it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { uuidv7 } from '@devicelink/protocol';
import type pg from 'pg';

const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

export interface CollectorProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no drain, no cleanup. */
  kill(): Promise<void>;
}

/** Starts a collector with `env` (PORT 0) and resolves once it listens. */
export function startCollector(env: Record<string, string>): Promise<CollectorProcess> {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /devicelink collector listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (m) {
        child.stdout!.off('data', onData);
        // Keep draining the pipes so the child never blocks on a full buffer.
        child.stdout!.resume();
        resolve({
          port: Number(m[1]),
          child,
          async stop() {
            if (child.exitCode === null) child.kill('SIGTERM');
            await exited;
          },
          async kill() {
            if (child.exitCode === null) child.kill('SIGKILL');
            await exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('exit', (code, signal) => {
      // An unexpected death is the first thing to know when a test fails.
      if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM') {
        console.error(`collector exited (${code ?? signal}):\n${output.slice(-3000)}`);
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`collector exited with ${code} before listening:\n${output}`)),
    );
  });
}

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
