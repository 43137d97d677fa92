import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // `npm start` builds without declarations (DEVICELINK_BUILD_TYPES=0): they are most of the build's time.
  // biome-ignore lint/style/noProcessEnv: the build's own switch, set by scripts/bootstrap.mjs
  dts: process.env.DEVICELINK_BUILD_TYPES !== '0',
  clean: true,
  sourcemap: true,
  target: 'es2020',
});
