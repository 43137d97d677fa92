/**
 * Servers under test run as child processes, so the load generator (wrk, or autocannon in the bench
 * process) and the server never share an event loop: the collector from its build
 * (`apps/collector/dist/server.js`), the bare Fastify baseline and the pinned reference server
 * (`servers/`), all through the launcher of @devicelink/test-env.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type RunningProcess, startCollectorProcess, startProcess } from '@devicelink/test-env';

/** The repository root. */
const REPO_ROOT = join(import.meta.dirname, '..', '..');
const BARE_ENTRY = join(import.meta.dirname, 'servers', 'bare-fastify-server.ts');
const REFERENCE_ENTRY = join(import.meta.dirname, 'servers', 'reference-server.ts');

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
  /** Whether the process is still running. */
  alive(): boolean;
  /** Calls `fn` with every chunk the process prints from now on (stdout and stderr). */
  onOutput(fn: (chunk: string) => void): void;
}

/** Extra options of the collector child. */
export interface SpawnOptions {
  /** Writes a V8 CPU profile into this directory when the process exits. */
  cpuProfileDir?: string;
  /** A subdirectory of `cpuProfileDir` for this process (`collector`, `reference`, `bare`). */
  profileName?: string;
}

/** Asks the OS for a free port (released at once; the child binds it right after). */
async function freePort(): Promise<number> {
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

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export function cpuOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Wraps a launched process with the figures the bench reads. */
function serverOf(proc: RunningProcess): ServerProcess {
  return {
    url: proc.url,
    pid: proc.pid,
    rss: () => rssOf(proc.pid),
    cpuSeconds: () => cpuOf(proc.pid),
    stop: async () => {
      await proc.terminate(10_000);
    },
    alive: () => proc.child.exitCode === null && proc.child.signalCode === null,
    onOutput: (fn) => {
      proc.child.stdout?.on('data', (c: Buffer) => fn(c.toString()));
      proc.child.stderr?.on('data', (c: Buffer) => fn(c.toString()));
    },
  };
}

/** Starts a TypeScript server of the bench (through tsx, from the bench package) and waits for /healthz. */
async function startBenchServer(
  entry: string,
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const proc = await startProcess({
    args: [...profileArgs(options), '--import', 'tsx', entry],
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    inheritEnv: true,
    cwd: join(REPO_ROOT, 'bench'),
    ready: { url: `http://127.0.0.1:${port}/healthz` },
  });
  return serverOf(proc);
}

/**
 * Starts the built collector with `env` (REDIS_URL, DATABASE_URL, PERSISTER, ...) and waits for
 * `/readyz`. Logs at `warn`: request logging is the deployer's choice and not what is measured.
 */
export async function startCollector(
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const proc = await startCollectorProcess(
    {
      LOG_LEVEL: 'warn',
      // High enough never to refuse bench traffic; the limiter itself still runs on every request.
      RATE_LIMIT_PER_MINUTE: '10000000',
      // wrk's device pool comes from one address: the new-id limits count, never refuse.
      NEW_IDS_PER_ADDRESS: '10000000',
      NEW_IDS_PER_NETWORK: '10000000',
      NEW_IDS_PER_BLOCK: '10000000',
      ...env,
    },
    {
      port: await freePort(),
      inheritEnv: true,
      nodeArgs: profileArgs(options),
    },
  );
  return serverOf(proc);
}

/**
 * Starts the persister alone (`node dist/server.js persist`, the deployment with ingest-only
 * collectors) and waits for its start-up line.
 */
export async function startPersister(env: Record<string, string>): Promise<ServerProcess> {
  return serverOf(await startCollectorProcess(env, { command: 'persist', inheritEnv: true }));
}

/** Starts the bare Fastify baseline (one route, no plugin, no Redis). */
export function startBareFastify(options: SpawnOptions = {}): Promise<ServerProcess> {
  return startBenchServer(BARE_ENTRY, {}, options);
}

/** Node flags for a CPU profile (named by the process, so profiles of servers can be told apart). */
function profileArgs(options: SpawnOptions): string[] {
  if (!options.cpuProfileDir) return [];
  const dir = options.profileName ? join(options.cpuProfileDir, options.profileName) : options.cpuProfileDir;
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Starts the pinned reference server (`servers/reference-server.ts`) on `redisUrl`, keys under `prefix`. */
export function startReferenceServer(
  redisUrl: string,
  prefix: string,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  return startBenchServer(REFERENCE_ENTRY, { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix }, options);
}
