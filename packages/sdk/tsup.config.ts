import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', axios: 'src/axios.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // FingerprintJS and axios are dependencies: left as imports, so FingerprintJS stays its own chunk,
  // loaded by the dynamic import only when needed. The protocol package is not published: its code is
  // bundled, so `npm i @devicelink/sdk axios` is the whole install.
  external: ['@fingerprintjs/fingerprintjs', 'axios'],
  noExternal: ['@devicelink/protocol'],
});
