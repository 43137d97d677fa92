import { vi } from 'vitest';

/**
 * Polls `assertion` until it passes. The deadline only ends a hung test; it is generous so a loaded CI
 * machine (real HTTP round trips, CORS preflights) never turns into a false failure.
 */
export function eventually<T>(assertion: () => T): Promise<T> {
  return vi.waitFor(assertion, { timeout: 10_000, interval: 10 });
}
