import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/testing.ts'],
  format: ['esm', 'cjs'],
  // The protocol's types are inlined too: the published .d.ts must not import the unpublished package.
  // `npm start` builds without declarations (DEVICELINK_BUILD_TYPES=0): they are most of the build's time.
  // biome-ignore lint/style/noProcessEnv: the build's own switch, set by scripts/bootstrap.mjs
  dts: process.env.DEVICELINK_BUILD_TYPES === '0' ? false : { resolve: ['@devicelink/protocol'] },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // The Redis scripts live in `.lua` files and are bundled as strings.
  loader: { '.lua': 'text' },
  // Bundled so a packed tarball installs alone (the protocol package is not published).
  noExternal: ['@devicelink/protocol'],
});
