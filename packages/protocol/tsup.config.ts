import { defineConfig } from 'tsup';

export default defineConfig({
  // The HTTP API's schemas are a subpath of their own: the SDK bundles the main entry and never needs them.
  entry: ['src/index.ts', 'src/schemas.ts'],
  format: ['esm', 'cjs'],
  // `npm start` builds without declarations (DEVICELINK_BUILD_TYPES=0): they are most of the build's time.
  // biome-ignore lint/style/noProcessEnv: the build's own switch, set by scripts/bootstrap.mjs
  dts: process.env.DEVICELINK_BUILD_TYPES !== '0',
  clean: true,
  sourcemap: true,
  target: 'es2020',
});
