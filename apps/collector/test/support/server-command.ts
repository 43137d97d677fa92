/**
 * The collector's command line as a child process (`node dist/server.js [persist]`), for tests of
 * commands, signals and crashes: resolves once the process says it runs, keeps its output, and reports
 * how it exited. Needs the build (turbo's test task depends on it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `server.js` command. */
export interface ServerCommand {
  readonly child: ChildProcess;
  /** The listening port (0 for `persist`). */
  readonly port: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when it exits. */
  readonly exited: Promise<Exit>;
  /** Sends SIGTERM and resolves with the exit. */
  terminate(): Promise<Exit>;
  /** SIGKILL: no drain, no cleanup. */
  kill(): Promise<Exit>;
}

const READY = {
  serve: /devicelink collector listening on http:\/\/[^:]+:(\d+)/,
  persist: /devicelink persister running/,
};

/**
 * Starts `node dist/server.js` (`serve`) or `node dist/server.js persist` with `env` (PORT 0 unless
 * given), resolving once it is ready; rejects with its output if it exits first.
 */
export function startCommand(
  command: 'serve' | 'persist',
  env: Record<string, string>,
  args: string[] = [],
): Promise<ServerCommand> {
  const child = spawn(process.execPath, [SERVER, ...(command === 'persist' ? ['persist'] : []), ...args], {
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  child.stdout!.on('data', (c: Buffer) => {
    text += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const handle = (port: number): ServerCommand => ({
    child,
    port,
    output: () => text,
    exited,
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  });
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = READY[command].exec(text);
      if (!m) return;
      child.stdout!.off('data', check);
      child.stderr!.off('data', check);
      resolve(handle(m[1] ? Number(m[1]) : 0));
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((e) =>
      reject(new Error(`server.js ${command} exited (${e.code ?? e.signal}) before it was ready:\n${text}`)),
    );
  });
}
