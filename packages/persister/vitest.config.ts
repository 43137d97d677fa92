import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The README example imports this package by name, as a host app does.
  resolve: { alias: { '@devicelink/persister': new URL('./src/index.ts', import.meta.url).pathname } },
  test: {
    name: 'persister',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests create Postgres databases and Redis streams.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
