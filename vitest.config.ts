import { defineConfig } from 'vitest/config';

// `npm test` runs every package's suite in one vitest run; each package keeps its own config.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'e2e/vitest.config.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
    // Tags the run's Redis prefixes and databases, and fails the run if any is left at its end.
    globalSetup: ['./packages/test-env/src/leak-check.ts'],
  },
});
