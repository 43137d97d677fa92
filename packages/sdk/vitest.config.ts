import { defineConfig } from 'vitest/config';

// DOM tests pick happy-dom per file (`// @vitest-environment happy-dom`); the rest run under plain Node.
export default defineConfig({
  test: { name: 'sdk', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 20_000 },
});
