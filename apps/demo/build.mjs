// Builds the demo into dist/: index.html, app.js and the chunks esbuild splits off. FingerprintJS, which
// the SDK imports lazily, stays its own chunk (chunks/fp.esm-*.js, after FingerprintJS's file name), so the
// browser only fetches it once consent is granted; the e2e tests check exactly that request.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src', 'main.ts') },
  outdir: dist,
  bundle: true,
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
await copyFile(join(here, 'src', 'index.html'), join(dist, 'index.html'));
