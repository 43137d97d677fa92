/**
 * The SDK as an app installs it: `pnpm pack`, then `npm install <tarball> axios` in a temporary folder
 * outside the workspace (no workspace package to fall back on), imported as ESM and CJS by Node and
 * typechecked with `moduleResolution` `bundler` and `node16`. Needs the build (turbo runs it before
 * `test`) and the npm registry or npm's cache for axios and FingerprintJS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const sdk = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
let dir: string;

const run = (cmd: string, args: string[], cwd = dir) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  expect(existsSync(join(sdk, 'dist/index.js')), 'dist is missing: build @devicelink/sdk first').toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'devicelink-sdk-install-'));
  run('pnpm', ['pack', '--pack-destination', dir], sdk);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`, 'axios']);
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed SDK, installed with npm', () => {
  test('installs alone: no dependency on an unpublished workspace package', () => {
    const pkg = JSON.parse(run('node', ['-p', 'JSON.stringify(require("@devicelink/sdk/package.json"))']));
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['@fingerprintjs/fingerprintjs']);
    expect(existsSync(join(dir, 'node_modules/@devicelink/protocol'))).toBe(false);
  });

  test('imports as ESM and as CJS, both entries', () => {
    const esm = run('node', [
      '--input-type=module',
      '-e',
      `import { createDeviceLink, isDeviceLinkError } from '@devicelink/sdk';
       import { attachAxios } from '@devicelink/sdk/axios';
       import axios from 'axios';
       const dl = createDeviceLink({ collector: 'https://collect.example.com' });
       const eject = attachAxios(axios.create(), dl);
       eject();
       console.log(typeof isDeviceLinkError, dl.deviceId());`,
    ]);
    expect(esm.trim()).toBe('function null');
    const cjs = run('node', [
      '-e',
      `const { createDeviceLink } = require('@devicelink/sdk');
       const { attachAxios } = require('@devicelink/sdk/axios');
       console.log(typeof createDeviceLink, typeof attachAxios);`,
    ]);
    expect(cjs.trim()).toBe('function function');
  });

  test.each([
    ['bundler', 'esnext'],
    ['node16', 'node16'],
  ])('typechecks an app file with moduleResolution %s', (moduleResolution, module) => {
    const app = `import { createDeviceLink, type DeviceLink, type DeviceIdSource, isDeviceLinkError } from '@devicelink/sdk';
import { attachAxios } from '@devicelink/sdk/axios';
import axios from 'axios';

const dl: DeviceLink = createDeviceLink({
  collector: 'https://collect.example.com',
  onError: (e) => console.warn(isDeviceLinkError(e), e.name),
  queryAllowlist: ['utm_source'],
});
const source: DeviceIdSource | null = dl.deviceIdSource();
const eject: () => void = attachAxios(axios.create(), dl);
void dl.reset().then((r) => ('error' in r ? r.error.status : r.ok));
export { eject, source };
`;
    writeFileSync(join(dir, 'app.ts'), app);
    // Under node16 a CommonJS file resolves the `require` types (index.d.cts) too.
    writeFileSync(
      join(dir, 'legacy.cts'),
      `import sdk = require('@devicelink/sdk');
import glue = require('@devicelink/sdk/axios');
export const dl: sdk.DeviceLink = sdk.createDeviceLink({ collector: 'https://collect.example.com' });
export const attach: typeof glue.attachAxios = glue.attachAxios;
`,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          module,
          moduleResolution,
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: [],
        },
        files: module === 'node16' ? ['app.ts', 'legacy.cts'] : ['app.ts'],
      }),
    );
    // Throws (with tsc's messages) on any type error.
    run(process.execPath, [tsc, '-p', 'tsconfig.json']);
  });
});
