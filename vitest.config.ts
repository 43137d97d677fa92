import { defineConfig } from 'vitest/config';

// `npm test` runs every package's suite in one vitest run; each package keeps its own config.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', 'e2e/vitest.config.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
    // Vitest's default is one worker per core less one: one on a 2-core machine, where most files wait
    // on Redis, Postgres, child processes or Chromium rather than compute. Three keep both cores busy.
    maxWorkers: 3,
    // Tags the run's Redis prefixes and databases, and fails the run if any is left at its end; makes
    // the empty PGlite cluster every test data folder copies (initdb once, not per folder).
    globalSetup: ['./packages/test-env/src/leak-check.ts', './packages/test-env/src/pglite-template.ts'],
  },
});
