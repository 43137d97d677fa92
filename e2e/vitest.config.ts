import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'e2e',
    include: ['**/*.e2e.ts'],
    testTimeout: 60_000,
    // A fresh embedded data directory (PGlite initdb in WebAssembly) takes 10-25 s before the collector listens.
    hookTimeout: 120_000,
    fileParallelism: false,
    passWithNoTests: true,
  },
});
