import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // `npm start` builds without declarations (DEVICELINK_BUILD_TYPES=0): they are most of the build's time.
  dts: process.env.DEVICELINK_BUILD_TYPES === '0' ? false : true,
  clean: true,
  sourcemap: true,
  target: 'es2020',
});
