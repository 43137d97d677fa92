import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Bundled so a packed tarball installs alone (the protocol package is not published).
  noExternal: ['@devicelink/protocol'],
});
