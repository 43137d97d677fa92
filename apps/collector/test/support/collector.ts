/**
 * Test helpers: a collector built in process (`app.inject` or a real port), once per `describe`
 * (`useCollector`), and event bodies.
 */
import { uuidv7 } from '@devicelink/protocol';
import {
  Cleanups,
  tempDataDir as newDataDir,
  openServices,
  type TestServices,
  testEnv,
} from '@devicelink/test-env';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/collector-config.js';

/** A 32-character admin token for tests. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** A valid device id, unique per call. */
export function deviceId(): string {
  return `dev${uuidv7().replace(/-/g, '')}`;
}

/** A page view body of `n` events with fresh ids. */
export function eventsBody(n = 1, extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    events: Array.from({ length: n }, (_, i) => ({
      type: 'pageview',
      url: `https://shop.test/p/${i}`,
      id: uuidv7(),
    })),
  };
}

/**
 * Defaults of every test collector. `app.inject` sends `User-Agent: lightMyRequest`, which the bot
 * filter rightly calls a bot: tests of other behaviour run with the filter off, and the bot tests
 * (`bot-filter.test.ts`) turn it on and send browsers' user agents.
 */
export const TEST_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  LOG_LEVEL: 'silent',
  BOT_FILTER: 'off',
});

/** A temporary DATA_DIR (with the run's empty PGlite cluster copied in), removed by `remove()`. */
export const tempDataDir = (): { dir: string; remove(): void } => newDataDir('collector');

/** Builds a collector from an environment object (LOG_LEVEL silent unless given). */
export async function collector(env: Record<string, string | undefined>): Promise<FastifyInstance> {
  return buildApp(loadConfig({ ...TEST_DEFAULTS, ...env }), { logger: false });
}

/**
 * What backs a `useCollector` collector: the memory store on Postgres when DATABASE_URL is set (PGlite
 * otherwise), the embedded defaults (memory store and PGlite, whatever is set), or Redis + Postgres.
 */
export type CollectorBacking = 'memory' | 'embedded' | 'redis';

/** The collector of a `describe` (or file) and the services under it. */
export interface CollectorScope {
  readonly app: FastifyInstance;
  /** The Redis prefix and database (null on PGlite). */
  readonly services: TestServices | null;
}

/**
 * A collector built in process once for the enclosing `describe` (or file): `beforeAll` opens its
 * services (a temporary DATA_DIR, a fresh database when DATABASE_URL is set, and with `'redis'` a
 * fresh key prefix) and builds it; `afterAll` closes it, deletes the keys and drops the database.
 * `env` may be a function, read in `beforeAll` after the hooks registered before it (a JWKS server).
 *
 * @example
 * const ctx = useCollector('routes', { DEBUG_ROUTES: 'true' });
 * it('answers healthz', async () => expect((await ctx.app.inject({ url: '/healthz' })).statusCode).toBe(200));
 */
export function useCollector(
  label: string,
  env: Record<string, string> | (() => Record<string, string>) = {},
  backing: CollectorBacking = 'memory',
): CollectorScope {
  const cleanups = new Cleanups();
  let app: FastifyInstance | undefined;
  let services: TestServices | null = null;
  beforeAll(async () => {
    const data = tempDataDir();
    cleanups.add(() => data.remove());
    if (backing === 'redis' || (backing === 'memory' && testEnv.databaseUrl)) {
      const opened = await openServices(label, { redis: backing === 'redis' });
      cleanups.add(() => opened.close());
      services = opened;
    }
    const built = await collector({
      DATA_DIR: data.dir,
      ...services?.env,
      ...(typeof env === 'function' ? env() : env),
    });
    cleanups.add(() => built.close());
    app = built;
  });
  afterAll(() => cleanups.run());
  return {
    get app() {
      if (!app) throw new Error('the collector is built in beforeAll: use it inside a test');
      return app;
    },
    get services() {
      return services;
    },
  };
}

/** POSTs `n` page views (`eventsBody(n)`) for `device` by its header id to the collector `app`. */
export function sendPageviews(app: FastifyInstance, device: string, n = 1): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'x-device-fingerprint': device },
    payload: eventsBody(n),
  });
}
