/**
 * Vitest fixtures (`test.extend`) over the real services: import `test` from here instead of vitest.
 *
 * - `cleanup(fn)`: runs `fn` after the test, last registered first.
 * - `services`: Redis (a client and a fresh key prefix) and a fresh Postgres database for one test,
 *   every key of the prefix deleted and the database dropped after it (see `openServices`).
 * - `fileServices`: the same, once per test file.
 *
 * @example
 * import { test } from '@devicelink/test-env/fixtures';
 * test('stores a page view', async ({ services, cleanup }) => {
 *   const app = await buildApp(loadConfig(services.env));
 *   cleanup(() => app.close());
 * });
 */
import { test as base } from 'vitest';
import { Cleanups } from './cleanups.js';
import { openServices, type TestServices } from './test-services.js';

/** The fixtures of `test`. */
export interface ServiceFixtures {
  cleanup: (fn: () => unknown) => void;
  services: TestServices;
  fileServices: TestServices;
}

export const test = base
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
  .extend('fileServices', { scope: 'file' }, async ({}, { onCleanup }) => {
    const services = await openServices('file');
    onCleanup(() => services.close());
    return services;
  })
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
  .extend('services', async ({}, { onCleanup }) => {
    const services = await openServices('test');
    onCleanup(() => services.close());
    return services;
  })
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
  .extend('cleanup', async ({}, { onCleanup }) => {
    const cleanups = new Cleanups();
    onCleanup(() => cleanups.run());
    return (fn: () => unknown) => cleanups.add(fn);
  });

export { describe, expect } from 'vitest';
