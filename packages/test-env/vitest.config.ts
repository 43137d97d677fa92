import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { name: 'test-env', include: ['test/**/*.test.ts'] } });
