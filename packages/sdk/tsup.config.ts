import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

/** What the build may mangle: the SDK's own internal members, by their trailing `_`. */
const INTERNAL_NAME = /_$/;

/**
 * Fails the build when a mangled name breaks the convention or is a member name of the JavaScript or DOM
 * standard library (TypeScript's `lib.*.d.ts`): such a name would also be renamed where the SDK reads a
 * browser object, and that read would silently find nothing.
 */
const mangledNamesCheck: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'mangled-names-check',
  setup(build) {
    build.onEnd((result) => {
      const mangled = Object.entries(result.mangleCache ?? {}).filter(([, to]) => to !== false);
      const standard = standardMemberNames();
      const wrong = mangled
        .map(([name]) => name)
        .filter((name) => !INTERNAL_NAME.test(name) || standard.has(name));
      if (wrong.length > 0) {
        throw new Error(`mangled names that are not internal or are standard members: ${wrong.join(', ')}`);
      }
    });
  },
};

/** Every member name declared in TypeScript's standard library files (DOM, ES, web workers). */
function standardMemberNames(): Set<string> {
  const lib = dirname(createRequire(import.meta.url).resolve('typescript/lib/lib.dom.d.ts'));
  const names = new Set<string>();
  for (const file of readdirSync(lib).filter((f) => /^lib\..*\.d\.ts$/.test(f))) {
    const text = readFileSync(join(lib, file), 'utf8');
    for (const m of text.matchAll(/^\s+(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*[:(<]/gm)) names.add(m[1]!);
  }
  return names;
}

export default defineConfig({
  entry: { index: 'src/index.ts', axios: 'src/axios.ts' },
  format: ['esm', 'cjs'],
  // The protocol's types are inlined too: the published .d.ts must not import the unpublished package.
  // `npm start` builds without declarations (DEVICELINK_BUILD_TYPES=0): they are most of the build's time.
  // biome-ignore lint/style/noProcessEnv: the build's own switch, set by scripts/bootstrap.mjs
  dts: process.env.DEVICELINK_BUILD_TYPES === '0' ? false : { resolve: ['@devicelink/protocol'] },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // FingerprintJS and axios are dependencies: left as imports, so FingerprintJS stays its own chunk,
  // loaded by the dynamic import only when needed. The protocol package is not published: its code is
  // bundled, so `npm i @devicelink/sdk axios` is the whole install.
  external: ['@fingerprintjs/fingerprintjs', 'axios'],
  noExternal: ['@devicelink/protocol'],
  esbuildOptions(options) {
    // Members of the SDK's internal objects (the device id client, the collector client, the page-view
    // queue and its entries) get short names in dist: no app's bundler could shorten them, and every
    // name costs bytes in the core. A mangled name is renamed on every object in the bundle, so only
    // names that say they are internal are: those ending in `_` (`current_`, `send_`), a suffix no DOM,
    // fetch, wire or public API name has. Never give one to what leaves the bundle (a request body, an
    // option, a public method, an export).
    options.mangleProps = INTERNAL_NAME;
    // Asks esbuild for the names it mangled, for the check below.
    options.mangleCache = {};
  },
  esbuildPlugins: [mangledNamesCheck],
});
