import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'collector',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // A three-node Redis Cluster for test/cluster.test.ts (skipped without redis-server).
    globalSetup: ['./test/support/redis-cluster.global-setup.ts'],
    // Integration tests start collectors, Postgres databases and child processes.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
