/**
 * A redis-server of the test's (or bench's) own on a free loopback port, to stop and start again at
 * will: Redis outages without touching the shared Redis other agents and tests use. Started from the
 * local `redis-server`; its data directory is removed by `close()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPort } from './loopback-port.js';
import { onPath } from './redis-cluster.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** `appendonly yes` with `appendfsync everysec` (default: no persistence at all). */
  aof?: boolean;
}

/** A redis-server of one's own. */
export interface TestRedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Clean shutdown (`SHUTDOWN`, as SIGTERM: with AOF, everything written is fsynced first). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (with AOF, the data comes back). */
  start(): Promise<void>;
  /** SIGSTOP: the server holds its connections and answers nothing (a hung Redis). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** True when a local `redis-server` can be started. */
export const redisServerAvailable = (): boolean => onPath('redis-server') && onPath('redis-cli');

/**
 * Starts a redis-server on a free port and waits until it answers.
 *
 * @example
 * const redis = await startRedisServer('outage');
 * await redis.stop();   // Redis away
 * await redis.start();  // and back
 * await redis.close();
 */
export async function startRedisServer(
  label: string,
  options: RedisServerOptions = {},
): Promise<TestRedisServer> {
  const dir = mkdtempSync(join(tmpdir(), `dl-${label}-redis-`));
  const port = await freeLoopbackPort();
  // biome-ignore format: one option per pair reads better
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', options.aof ? 'yes' : 'no', '--appendfsync', 'everysec', '--daemonize', 'no'];
  let child: ChildProcess | null = null;
  const ping = async () => (await run('redis-cli', ['-p', String(port), 'ping'])).stdout.includes('PONG');
  const start = async () => {
    if (child) return;
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    child = c;
    c.once('exit', () => {
      if (child === c) child = null;
    });
    await waitFor(ping, { what: `redis-server on ${port}` });
  };
  const stop = async () => {
    const c = child;
    if (!c) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGCONT');
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
