/**
 * Every start failure an operator meets first, told in one line on stderr naming the variable to change
 * (docs: apps/collector/README.md, Configuration): the built `server.js` started as a child process, as
 * `npm start` does, with a bad value, a taken port, a wrong HOST, a `.env`, or a service it cannot use.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase, hasServices, testEnv } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import { tempDataDir } from './support/collector.js';

const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url));
const LEVELS = 'fatal, error, warn, info, debug, trace, silent';

/** Runs `server.js` to its end (a start that fails ends; one that does not is a failure of the test). */
async function run(env: Record<string, string>, options: { cwd?: string; args?: string[] } = {}) {
  const data = tempDataDir();
  try {
    await promisify(execFile)(process.execPath, [SERVER, ...(options.args ?? [])], {
      env: { PATH: process.env.PATH, PORT: '0', DATA_DIR: data.dir, ...env },
      timeout: 60_000,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    return { code: 0, stderr: '', stdout: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string; stdout: string };
    return { code: e.code, stderr: e.stderr, stdout: e.stdout };
  } finally {
    data.remove();
  }
}

/** The one line a failed start printed, after checking it is one. */
function oneLine(r: { stderr: string }): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
}

/** A port another process listens on, closed after `use`. */
async function withTakenPort<T>(use: (port: number) => Promise<T>): Promise<T> {
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    return await use((taken.address() as import('node:net').AddressInfo).port);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}

describe('start-up errors', () => {
  it('names PORT and HOST on one line, before any start-up work, when another process listens there', async () => {
    await withTakenPort(async (port) => {
      const r = await run({ PORT: String(port), HOST: '127.0.0.1' });
      expect(r.code).toBe(1);
      expect(oneLine(r)).toBe(
        `devicelink: cannot start: PORT (127.0.0.1:${port}): port ${port} is in use by another process on HOST 127.0.0.1; choose a free PORT (or stop that process)`,
      );
    });
  });

  it('names METRICS_PORT on one line when its port is taken, before any start-up work', async () => {
    await withTakenPort(async (port) => {
      const r = await run({ METRICS_PORT: String(port) });
      expect(r.code).toBe(1);
      expect(oneLine(r)).toMatch(
        new RegExp(
          `^devicelink: cannot start: METRICS_PORT \\(127\\.0\\.0\\.1:${port}\\): port ${port} is in use`,
        ),
      );
      // Nothing was opened: no migration ran, nothing was logged.
      expect(r.stdout).toBe('');
    });
  });

  it('names HOST on one line when it is not an address of this machine', async () => {
    const r = await run({ PORT: '18080', HOST: '192.0.2.123' });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toMatch(
      /^devicelink: cannot start: HOST \(192\.0\.2\.123:18080\): not an address of this machine/,
    );
  });

  it.each(['http://0.0.0.0', 'localhost:8080'])(
    'refuses HOST=%s as a configuration error naming it (exit 2)',
    async (host) => {
      const r = await run({ HOST: host });
      expect(r.code).toBe(2);
      expect(oneLine(r)).toBe(
        `devicelink: configuration error: HOST must be an address or host name without scheme or port (127.0.0.1, 0.0.0.0, ::), got "${host}"`,
      );
    },
  );

  it('names LOG_LEVEL and the levels it takes when it holds another word', async () => {
    const r = await run({ LOG_LEVEL: 'verbose' });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(
      `devicelink: configuration error: LOG_LEVEL must be one of ${LEVELS}; got "verbose"`,
    );
  });

  it('names DATA_DIR on one line when a file stands where its folder should be', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-datadir-'));
    try {
      const file = join(dir, 'not-a-folder');
      writeFileSync(file, '');
      const r = await run({ DATA_DIR: file });
      expect(r.code).toBe(1);
      expect(oneLine(r)).toMatch(
        new RegExp(
          `^devicelink: cannot start: DATA_DIR \\(${file}\\): cannot be used as the data folder \\(EEXIST`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells an unknown command on one line with the ones there are (exit 2)', async () => {
    const r = await run({}, { args: ['frobnicate'] });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe(
      'devicelink: unknown command "frobnicate"; use no argument (serve), "persist" or "purge"',
    );
  });

  it("reads ./.env for what the environment leaves unset, the environment's own variables winning", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-dotenv-'));
    try {
      writeFileSync(join(dir, '.env'), '# a comment\nLOG_LEVEL=verbose\nHOST=127.0.0.1\n');
      // The file's value is read, through the schema, and named like any other ...
      expect(oneLine(await run({}, { cwd: dir }))).toBe(
        `devicelink: configuration error: LOG_LEVEL must be one of ${LEVELS}; got "verbose"`,
      );
      // ... and the environment's wins over it.
      expect(oneLine(await run({ LOG_LEVEL: 'loud' }, { cwd: dir }))).toMatch(/LOG_LEVEL .*; got "loud"$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(hasServices('postgres'))('start-up errors of the services', () => {
  it('names REDIS_URL and its address, password hidden, on one line when Redis is unreachable', async () => {
    const database = await createTestDatabase('redisdown');
    const r = await run({ REDIS_URL: 'redis://:hunter2@127.0.0.1:1', DATABASE_URL: database.url }).finally(
      () => database.drop(),
    );
    expect(r.code).toBe(1);
    expect(oneLine(r)).toMatch(
      /^devicelink: cannot start: REDIS_URL \(redis:\/\/:\*\*\*@127\.0\.0\.1:1\): Redis is unreachable/,
    );
    expect(r.stderr + r.stdout).not.toContain('hunter2');
  });

  it('names DATABASE_URL and its address on one line when the database does not exist', async () => {
    const url = new URL(testEnv.databaseUrl!);
    url.pathname = '/dl_no_such_database_here';
    url.password = 'hunter2';
    const r = await run({ DATABASE_URL: url.toString() });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toMatch(
      /^devicelink: cannot start: DATABASE_URL \(postgres:\/\/[^ ]*:\*\*\*@[^ ]*\/dl_no_such_database_here\): .*does not exist/,
    );
    expect(r.stderr + r.stdout).not.toContain('hunter2');
  });
});
