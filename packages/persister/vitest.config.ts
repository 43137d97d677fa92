import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'persister',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests create Postgres databases and Redis streams.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
