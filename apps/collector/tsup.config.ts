import { defineConfig } from 'tsup';

// Three entries: `server.js` (the CLI: listens, or `persist` runs the persister alone), `index.js`
// (buildApp and friends, for tests and embedding) and `env-schema.js` (the environment's schema, which
// scripts/config-docs.mjs writes the docs from). Workspace packages stay external: they are built.
export default defineConfig({
  entry: ['src/server.ts', 'src/index.ts', 'src/config/env-schema.ts'],
  format: ['esm'],
  // `npm start` builds without declarations (DEVICELINK_BUILD_TYPES=0): they are most of the build's time.
  // biome-ignore lint/style/noProcessEnv: the build's own switch, set by scripts/bootstrap.mjs
  dts: process.env.DEVICELINK_BUILD_TYPES === '0' ? false : { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
});
