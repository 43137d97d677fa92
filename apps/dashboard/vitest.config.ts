import { defineConfig } from 'vitest/config';

// The dashboard's pure parts (ranges, wording) under Node; the page itself runs in e2e/dashboard.e2e.ts.
export default defineConfig({ test: { name: 'dashboard', include: ['src/**/*.test.ts'] } });
