/**
 * The plugin and the persister as a host app installs them: `pnpm pack` both, then `npm install` the
 * two tarballs with fastify and ioredis in a temporary folder outside the workspace (no workspace
 * package to fall back on), and type-check the fastify README's host app (`host-app.example.ts`) against
 * them with `moduleResolution` `node16` and `bundler`. Shows that the built `.d.ts` files carry the
 * queue contract themselves (the protocol package is not published) and that the persister needs no
 * `@devicelink/fastify`. Needs the build (turbo runs it before `test`) and `NPM_REGISTRY` (the registry
 * the third-party dependencies come from; `.ci/run` sets it), else it is skipped.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasServices, testEnv } from '@devicelink/test-env';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const packageDir = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
const example = fileURLToPath(new URL('./host-app.example.ts', import.meta.url));
let dir: string;
/** tsc on a loaded machine takes tens of seconds: a generous bound, not a measure. */
const TSC_BOUND_MS = 280_000;

const run = (cmd: string, args: string[], cwd = dir) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: 280_000, stdio: ['ignore', 'pipe', 'pipe'] });

/** What the host app adds to the README's example: the queue contract, typed through the plugin. */
const QUEUE_TYPES = `import { createMemoryStore, type PartitionLeases, type QueueConsumer } from '@devicelink/fastify';
import { createPersister, type Persister, type PersisterOptions } from '@devicelink/persister';

const store = createMemoryStore();
const queue: QueueConsumer & PartitionLeases = store;
export const partitions: number = queue.partitions;
// @ts-expect-error the partition count is a number: a type lost to \`any\` would let this through
export const wrong: string = queue.partitions;
export const start = (db: PersisterOptions['db']): Persister => createPersister({ db, queue: store });
`;

describe.runIf(hasServices('registry'))('the packed plugin and persister, installed with npm', () => {
  beforeAll(() => {
    for (const name of ['fastify', 'persister']) {
      const built = existsSync(join(packageDir(name), 'dist/index.d.ts'));
      expect(built, `dist is missing: build @devicelink/${name} first`).toBe(true);
    }
    dir = mkdtempSync(join(tmpdir(), 'devicelink-host-install-'));
    for (const name of ['fastify', 'persister'])
      run('pnpm', ['pack', '--pack-destination', dir], packageDir(name));
    const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      `--registry=${testEnv.npmRegistry}`,
      ...tarballs.map((t) => `./${t}`),
      'fastify@5',
      'ioredis@5',
      '@types/node@20',
    ]);
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('installs alone: no unpublished workspace package, no PGlite for a Postgres app, and the persister needs no plugin', () => {
    expect(existsSync(join(dir, 'node_modules/@devicelink/protocol'))).toBe(false);
    // Embedded PGlite is an optional peer of the persister: a host app on Postgres does not pull it.
    for (const name of ['@electric-sql/pglite', 'kysely-pglite-dialect'])
      expect(existsSync(join(dir, 'node_modules', name)), name).toBe(false);
    const persister = JSON.parse(
      readFileSync(join(dir, 'node_modules/@devicelink/persister/package.json'), 'utf8'),
    );
    expect(Object.keys({ ...persister.dependencies, ...persister.peerDependencies })).not.toContain(
      '@devicelink/fastify',
    );
    for (const name of ['fastify', 'persister']) {
      for (const file of ['index.d.ts', 'index.d.cts']) {
        const types = readFileSync(join(dir, `node_modules/@devicelink/${name}/dist/${file}`), 'utf8');
        expect(types, `${name}/dist/${file}`).not.toMatch(/from '@devicelink\/protocol'/);
      }
    }
  });

  test.each([
    ['node16', 'node16'],
    ['bundler', 'esnext'],
  ])(
    'type-checks the README host app with moduleResolution %s',
    (moduleResolution, module) => {
      copyFileSync(example, join(dir, 'host-app.ts'));
      writeFileSync(join(dir, 'queue-types.ts'), QUEUE_TYPES);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            // Third-party declarations are not ours to check; ours are reached through the app's uses.
            skipLibCheck: true,
            module,
            moduleResolution,
            target: 'es2022',
            lib: ['es2022'],
            types: ['node'],
          },
          files: ['host-app.ts', 'queue-types.ts'],
        }),
      );
      // Throws (with tsc's messages) on any type error.
      run(process.execPath, [tsc, '-p', 'tsconfig.json']);
    },
    TSC_BOUND_MS,
  );
});
