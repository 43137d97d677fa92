import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

/** Imports `.lua` files as their text, as tsup's `loader: { '.lua': 'text' }` does for the build. */
const luaText: Plugin = {
  name: 'lua-text',
  load(id) {
    if (!id.endsWith('.lua')) return null;
    return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
  },
};

export default defineConfig({
  plugins: [luaText],
  test: {
    name: 'fastify',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/redis-cluster.global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
