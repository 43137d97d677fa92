import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/testing.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // The Redis scripts live in `.lua` files and are bundled as strings.
  loader: { '.lua': 'text' },
  // Bundled so a packed tarball installs alone (the protocol package is not published).
  noExternal: ['@devicelink/protocol'],
});
