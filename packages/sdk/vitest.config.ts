import { defineConfig } from 'vitest/config';

// DOM tests pick happy-dom per file (`// @vitest-environment happy-dom`); the rest run under plain Node.
// FingerprintJS is processed by vitest rather than loaded by Node, so its mock (fake-fingerprint.ts)
// also holds for the import inside the lazily loaded evidence chunk (externalized, the real library
// was sometimes loaded there under load).
export default defineConfig({
  test: {
    name: 'sdk',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    server: { deps: { inline: ['@fingerprintjs/fingerprintjs'] } },
  },
});
