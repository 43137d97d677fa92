/**
 * The collector as the user runs it: `node apps/collector/dist/server.js` in a child process, on a free
 * port (PORT=0, the address read from its start-up log line), with `DEMO=1` so it serves the demo and
 * `POST /demo/login`. The child gets only the variables given here, so a `REDIS_URL` in the test
 * environment never leaks into the embedded pass.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../../apps/collector/dist/server.js', import.meta.url));

/** The admin token every e2e collector runs with (admin routes need 32+ characters). */
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef0123456789';

/** A running collector. */
export interface CollectorProcess {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Everything it printed, for failure messages. */
  output(): string;
  /** Stops it with SIGTERM (it drains its persister) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts the collector with `env` on top of `PORT=0`, `HOST=127.0.0.1`, `DEMO=1` and the admin token.
 * Rejects with its output when it exits before listening.
 */
export async function startCollector(env: Record<string, string>): Promise<CollectorProcess> {
  const child: ChildProcess = spawn(process.execPath, [SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DEMO: '1',
      ADMIN_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`collector exited (${code}) before listening:\n${output}`)),
    );
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
