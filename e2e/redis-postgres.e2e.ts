/**
 * The whole flow in Chromium against the collector on Redis and Postgres (a fresh database, a fresh
 * Redis key prefix), as a deployment runs it.
 */
import { hasServices, openServices } from '@devicelink/test-env';
import { describe } from 'vitest';
import { deviceJourney } from './support/device-journey.js';

describe.runIf(hasServices('chromium', 'redis', 'postgres'))('the demo on Redis and Postgres', () => {
  deviceJourney('redis', async () => {
    const services = await openServices('e2e');
    return { env: services.env, cleanup: () => services.close() };
  });
});
