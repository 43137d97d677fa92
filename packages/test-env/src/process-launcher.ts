/**
 * The one launcher of server processes for tests, e2e and bench: the collector from its build
 * (`node apps/collector/dist/server.js [persist]`) and any other Node server. Resolves once the
 * process is ready (a line in its output, or a URL answering 2xx), keeps its output for failure
 * messages, and stops it with SIGTERM (SIGKILL after a grace period) or SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The collector's built entry point (`npm test` builds before the suites run). */
export const COLLECTOR_SERVER = fileURLToPath(
  new URL('../../../apps/collector/dist/server.js', import.meta.url),
);

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How to start a process and when it counts as ready. */
export interface ProcessOptions {
  /** Arguments to `node` (flags, then the script and its arguments). */
  args: string[];
  /** Variables of the child, on top of `PATH` (or of this process' environment with `inheritEnv`). */
  env?: Record<string, string>;
  /** Start from this process' whole environment instead of only `PATH` (the bench does). */
  inheritEnv?: boolean;
  cwd?: string;
  /** Ready when the output matches (its first group, if any, is the port) or the URL answers 2xx. */
  ready: RegExp | { url: string };
  /** How long it may take to be ready; 60 s. */
  readyTimeoutMs?: number;
}

/** A running process. */
export interface RunningProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The port read from the ready line or URL (0 when neither says one). */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Everything it printed so far (stdout and stderr, the last 256 KiB). */
  output(): string;
  /** Resolves when it exits. */
  readonly exited: Promise<Exit>;
  /** SIGTERM, SIGKILL after `graceMs` (30 s) if it is still running; resolves with the exit. */
  terminate(graceMs?: number): Promise<Exit>;
  /** SIGKILL: no drain, no cleanup. */
  kill(): Promise<Exit>;
}

const OUTPUT_LIMIT = 256 * 1024;

/** Starts `node ...args` and resolves once it is ready; rejects with its output if it exits or hangs first. */
export async function startProcess(options: ProcessOptions): Promise<RunningProcess> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...(options.inheritEnv ? process.env : { PATH: process.env.PATH ?? '' }), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = async () => {
    if (running()) child.kill('SIGKILL');
    return exited;
  };
  const terminate = async (graceMs = 30_000) => {
    if (!running()) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  };
  let port: number;
  try {
    port = await waitReady(options, () => text, exited);
  } catch (err) {
    await kill();
    throw err;
  }
  void exited.then((e) => {
    // An unexpected death is the first thing to know when a test fails.
    if (e.code !== 0 && e.signal !== 'SIGKILL' && e.signal !== 'SIGTERM') {
      console.error(`${options.args.at(-1)} exited (${e.code ?? e.signal}):\n${text.slice(-3000)}`);
    }
  });
  return {
    child,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => text,
    exited,
    terminate,
    kill,
  };
}

async function waitReady(
  options: ProcessOptions,
  output: () => string,
  exited: Promise<Exit>,
): Promise<number> {
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let exit: Exit | null = null;
  void exited.then((e) => {
    exit = e;
  });
  const what = options.ready instanceof RegExp ? String(options.ready) : options.ready.url;
  for (;;) {
    if (options.ready instanceof RegExp) {
      const m = options.ready.exec(output());
      if (m) return m[1] ? Number(m[1]) : 0;
    } else {
      try {
        if ((await fetch(options.ready.url)).ok) return Number(new URL(options.ready.url).port);
      } catch {
        // not listening yet
      }
    }
    if (exit) {
      const e: Exit = exit;
      throw new Error(`process exited (${e.code ?? e.signal}) before it was ready:\n${output()}`);
    }
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms (${what}):\n${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What runs: the collector (`serve`) or its persister alone (`persist`). */
export interface CollectorProcessOptions {
  command?: 'serve' | 'persist';
  /** Node flags before the entry point (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Arguments after the command. */
  args?: string[];
  /** Fixed port and readiness by `/readyz` (the bench, which logs at warn); otherwise PORT 0 and the log line. */
  port?: number;
  inheritEnv?: boolean;
}

/**
 * Starts the built collector with `env` (on top of `PORT=0`, `HOST=127.0.0.1`, `LOG_LEVEL=info`).
 *
 * @example
 * const c = await startCollectorProcess({ ...services.env, ADMIN_TOKEN });
 * await fetch(`${c.url}/readyz`);
 * await c.terminate();
 */
export function startCollectorProcess(
  env: Record<string, string>,
  options: CollectorProcessOptions = {},
): Promise<RunningProcess> {
  const command = options.command ?? 'serve';
  const port = options.port ?? 0;
  const ready =
    command === 'persist'
      ? /devicelink persister running/
      : port
        ? { url: `http://127.0.0.1:${port}/readyz` }
        : /devicelink collector listening on http:\/\/[^:]+:(\d+)/;
  return startProcess({
    args: [
      ...(options.nodeArgs ?? []),
      COLLECTOR_SERVER,
      ...(command === 'persist' ? ['persist'] : []),
      ...(options.args ?? []),
    ],
    env: { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    inheritEnv: options.inheritEnv,
    ready,
  });
}
