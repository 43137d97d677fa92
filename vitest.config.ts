import { defineConfig } from 'vitest/config';

// `npm test` runs every package's suite in one vitest run; each package keeps its own config.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'e2e/vitest.config.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
