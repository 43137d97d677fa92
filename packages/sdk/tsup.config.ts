import { defineConfig } from 'tsup';

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
    // name costs bytes in the core. Only names used nowhere else (no DOM, fetch, wire or public API
    // name, no export read from a chunk's module object) may be listed: a mangled name is renamed on
    // every object in the bundle.
    options.mangleProps =
      /^(current|source|requestHeaders|ready|adopt|replaceId|flushNow|beacon|send|token|event)$/;
  },
});
