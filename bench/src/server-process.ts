/**
 * Servers under test run as child processes, so the load generator (autocannon, in the bench process)
 * and the server never share an event loop: the collector from its build (`apps/collector/dist/server.js`)
 * and the bare Fastify baseline (`bare-fastify-server.ts`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The repository root. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');
const COLLECTOR_ENTRY = join(REPO_ROOT, 'apps', 'collector', 'dist', 'server.js');
const BARE_ENTRY = join(import.meta.dirname, 'bare-fastify-server.ts');
const PLUGIN_ENTRY = join(import.meta.dirname, 'plugin-server.ts');

/** A running server. */
export interface ServerProcess {
  url: string;
  pid: number;
  /** Resident set size now, bytes (Linux `/proc`), or null elsewhere. */
  rss(): number | null;
  /** CPU time the process has used so far (user + system), seconds (Linux `/proc`), or null elsewhere. */
  cpuSeconds(): number | null;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Extra options of the collector child. */
export interface SpawnOptions {
  /** Writes a V8 CPU profile into this directory when the process exits. */
  cpuProfileDir?: string;
}

/** Asks the OS for a free port (released at once; the child binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function rssOf(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Ready when `url` answers 2xx, or (for a process without HTTP) when its output contains `marker`. */
/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

function cpuOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

async function waitReady(
  ready: { url: string } | { marker: string },
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  const what = 'url' in ready ? ready.url : `"${ready.marker}" in its output`;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`process exited with code ${child.exitCode} before it was ready:\n${output()}`);
    }
    if ('marker' in ready) {
      if (output().includes(ready.marker)) return;
    } else {
      try {
        const res = await fetch(ready.url);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline) throw new Error(`not ready after 60 s (waited for ${what}):\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function start(
  args: string[],
  env: Record<string, string>,
  port: number,
  ready: { path: string } | { marker: string },
  cwd = REPO_ROOT,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    // Keep the tail only: enough to explain a failed start.
    log = (log + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitReady('path' in ready ? { url: `${url}${ready.path}` } : ready, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, rss: () => rssOf(child.pid!), cpuSeconds: () => cpuOf(child.pid!), stop };
}

/**
 * Starts the built collector with `env` (REDIS_URL, DATABASE_URL, PERSISTER, ...) and waits for
 * `/readyz`. Logs at `warn`: request logging is the deployer's choice and not what is measured.
 */
export async function startCollector(
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const args = options.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`, COLLECTOR_ENTRY]
    : [COLLECTOR_ENTRY];
  return start(
    args,
    {
      LOG_LEVEL: 'warn',
      // High enough never to refuse bench traffic; the limiter itself still runs on every request.
      RATE_LIMIT_PER_MINUTE: '10000000',
      ...env,
    },
    port,
    { path: '/readyz' },
  );
}

/**
 * Starts the persister alone (`node dist/server.js persist`, the deployment with ingest-only
 * collectors) and waits for its start-up line.
 */
export async function startPersister(env: Record<string, string>): Promise<ServerProcess> {
  return start([COLLECTOR_ENTRY, 'persist'], { ...env, LOG_LEVEL: 'info' }, 0, {
    marker: 'persister running',
  });
}

/** Starts the bare Fastify baseline (one route, no plugin, no Redis). */
export async function startBareFastify(): Promise<ServerProcess> {
  const port = await freePort();
  // From the bench package, where tsx resolves.
  return start(['--import', 'tsx', BARE_ENTRY], {}, port, { path: '/healthz' }, join(REPO_ROOT, 'bench'));
}

/** Starts Fastify with only the devicelink plugin on the Redis stores (`plugin-server.ts`). */
export async function startPluginServer(redisUrl: string): Promise<ServerProcess> {
  const port = await freePort();
  return start(
    ['--import', 'tsx', PLUGIN_ENTRY],
    { REDIS_URL: redisUrl },
    port,
    { path: '/healthz' },
    join(REPO_ROOT, 'bench'),
  );
}
