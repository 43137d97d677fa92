// Builds the dashboard into dist/: index.html, app.js (the code and uPlot, one bundle) and app.css
// (the page's styles and uPlot's). Served by the collector at /dashboard/ with a CSP that allows only
// these same-origin files: no inline script or style, no third-party origin.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const require = createRequire(import.meta.url);

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src', 'main.ts') },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
const uplotCss = await readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
const pageCss = await readFile(join(here, 'src', 'dashboard.css'), 'utf8');
await writeFile(join(dist, 'app.css'), `${uplotCss}\n${pageCss}`);
await copyFile(join(here, 'src', 'index.html'), join(dist, 'index.html'));
