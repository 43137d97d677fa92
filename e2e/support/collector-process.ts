/**
 * The collector as the user runs it: `node apps/collector/dist/server.js` in a child process (the
 * launcher of @devicelink/test-env), on a free port, with `DEMO=1` so it serves the demo and
 * `POST /demo/login`. The child gets only the variables given here, so a `REDIS_URL` in the test
 * environment never leaks into the embedded pass.
 */
import {
  openServices,
  type RunningProcess,
  startCollectorProcess,
  type TestServices,
} from '@devicelink/test-env';

/** The admin token every e2e collector runs with (admin routes need 32+ characters). */
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef0123456789';

/** A running collector (`url`, `output()`, `terminate()`). */
export type CollectorProcess = RunningProcess;

/**
 * Starts the collector with `env` on top of `DEMO=1`, the admin token and `BOT_FILTER=off`: the test
 * browser is headless Chromium driven by playwright, which the bot filter rightly calls automation, so
 * only the bot tests turn it on (`BOT_FILTER: 'on'` in `env`).
 */
export function startCollector(env: Record<string, string>): Promise<CollectorProcess> {
  return startCollectorProcess({ DEMO: '1', ADMIN_TOKEN, BOT_FILTER: 'off', ...env });
}

/** A collector on Redis + Postgres and how to stop it and remove its keys and database. */
export interface CollectorOnServices {
  collector: CollectorProcess;
  /** Its Redis prefix and Postgres database (with a connected client, for reading what reports read). */
  services: TestServices;
  close(): Promise<void>;
}

/**
 * Starts the collector on a fresh Redis key prefix and Postgres database (plus `env`, which may name
 * what must exist first, e.g. `CORS_ORIGINS`); `close` stops it, deletes the keys, drops the database.
 */
export async function startOnServices(
  label: string,
  env: Record<string, string> = {},
): Promise<CollectorOnServices> {
  const services = await openServices(label);
  try {
    const collector = await startCollector({ ...services.env, ...env });
    services.defer(() => collector.terminate());
    return { collector, services, close: () => services.close() };
  } catch (err) {
    await services.close();
    throw err;
  }
}
