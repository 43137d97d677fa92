/**
 * Test helpers: a collector built in process (`app.inject` or a real port), and event bodies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuidv7 } from '@devicelink/protocol';
import { createTestDatabase, testEnv } from '@devicelink/test-env';
import type { FastifyInstance } from 'fastify';
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

/** A temporary DATA_DIR, removed by `remove()`. */
export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dl-collector-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Builds a collector from an environment object (LOG_LEVEL silent unless given). */
export async function collector(env: Record<string, string | undefined>): Promise<FastifyInstance> {
  return buildApp(loadConfig({ LOG_LEVEL: 'silent', ...env }), { logger: false });
}

/**
 * The database part of a test environment: a fresh Postgres database when DATABASE_URL is set (fast),
 * else nothing (embedded PGlite in the data dir).
 */
export async function databaseEnv(
  label: string,
): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (!testEnv.databaseUrl) return { env: {}, drop: async () => {} };
  const db = await createTestDatabase(label);
  return { env: { DATABASE_URL: db.url }, drop: () => db.drop() };
}
