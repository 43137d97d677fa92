/**
 * The collector's command line (configuration from the environment, then `./.env`): `node dist/server.js` listens on HOST:PORT; `node dist/server.js persist`
 * runs the persister alone; `node dist/server.js purge` runs one retention pass and exits. SIGTERM/SIGINT stop accepting, drain the persister and close Redis and the
 * database. A bad configuration stops the start with a message naming the variable.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { type CollectorConfig, loadConfig as readConfig } from './config/collector-config.js';
import { isConfigError } from './config/config-error.js';
import { runPersisterOnly, runPurgeOnce } from './runtime/persist-command.js';
import { isStartupError, oneLine, StartupError } from './runtime/startup-error.js';

/** After a signal the process exits within this, whatever hangs (a stuck Redis or Postgres close). */
const SHUTDOWN_DEADLINE_MS = 30_000;

/** A second SIGTERM/SIGINT while stopping exits at once (an operator pressing Ctrl-C twice). */
function armShutdownDeadline(): void {
  setTimeout(() => {
    console.error(`devicelink: shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting`);
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  const now = () => process.exit(1);
  process.once('SIGTERM', now);
  process.once('SIGINT', now);
}

/**
 * `npm run demo` without a token configured: a random read-only dashboard token, so the dashboard
 * opens beside the demo at once ({@link announceDemo} prints it).
 */
function withDemoDashboardToken(config: CollectorConfig): CollectorConfig {
  if (!config.demo || config.dashboardToken || config.adminToken) return config;
  return Object.freeze({ ...config, dashboardToken: randomBytes(24).toString('base64url') });
}

/**
 * Where the demo and the dashboard are, and the demo's own token, printed to the terminal: never into
 * the structured log (which is shipped and kept), so the token stays on the screen of who started it.
 */
function announceDemo(url: string, demoToken: string | null): void {
  const token = demoToken
    ? `  sign in with the token ${demoToken}\n`
    : '  sign in with your DASHBOARD_TOKEN or ADMIN_TOKEN\n';
  process.stdout.write(
    `\n  devicelink demo: ${url}/demo/  (users alice/alice and bob/bob)\n  devicelink dashboard: ${url}/dashboard/\n${token}\n`,
  );
}

/** `host:port`, IPv6 addresses in brackets. */
const hostPort = (host: string, port: number) =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

/**
 * A listen failure as the one-line start-up error naming the variables to change (the port's and
 * HOST), else the error itself.
 */
function listenError(err: unknown, variable: 'PORT' | 'METRICS_PORT', host: string, port: number): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  const where = hostPort(host, port);
  if (code === 'EADDRINUSE') {
    return new StartupError(
      variable,
      where,
      `port ${port} is in use by another process on HOST ${host}; choose a free ${variable} (or stop that process)`,
    );
  }
  if (code === 'EACCES') {
    return new StartupError(
      variable,
      where,
      `not allowed to listen on port ${port}; choose a ${variable} above 1023`,
    );
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return new StartupError(
      'HOST',
      where,
      'not an address of this machine (use 127.0.0.1, 0.0.0.0 or an address it has)',
    );
  }
  return err;
}

/**
 * Binds HOST:PORT (and METRICS_PORT) once and lets go, before the databases are opened: a port in use
 * or a wrong HOST is told in one line at once rather than after the start-up work.
 */
async function checkListenable(host: string, ports: ReadonlyArray<['PORT' | 'METRICS_PORT', number]>) {
  for (const [variable, port] of ports) {
    if (port === 0) continue;
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', (err) => reject(listenError(err, variable, host, port)));
      probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
    });
  }
}

/** A file-system failure inside DATA_DIR (a file in its place, no permission) as the error naming it. */
function dataDirError(err: unknown, dataDir: string): unknown {
  const { code, path } = (err ?? {}) as { code?: unknown; path?: unknown };
  if (typeof code !== 'string' || typeof path !== 'string' || !path.startsWith(dataDir)) return err;
  return new StartupError('DATA_DIR', dataDir, `cannot be used as the data folder (${oneLine(err)})`);
}

/**
 * `.env` of the working directory, when there is one (`npm start` runs at the repository's root, a
 * service unit in apps/collector): its variables fill what the environment leaves unset, so a real
 * environment variable always wins. Node's own reader (`process.loadEnvFile`), the `--env-file` format.
 */
function loadDotEnv(): void {
  const path = join(process.cwd(), '.env');
  if (!existsSync(path)) return;
  try {
    process.loadEnvFile(path);
  } catch (err) {
    throw new StartupError('.env', path, `cannot be read: ${(err as Error).message}`);
  }
}

const COMMANDS = ['serve', 'persist', 'purge'];

/** A command the CLI does not have: told in one line with the ones it has (exit code 2). */
class UsageError extends Error {
  override name = 'UsageError';
  constructor(command: string) {
    super(`unknown command "${command}"; use no argument (serve), "persist" or "purge"`);
  }
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'serve';
  // Before .env and the configuration: a mistyped command is told as such, not as a variable's fault.
  if (!COMMANDS.includes(command)) throw new UsageError(command);
  loadDotEnv();
  const configured = readConfig();
  const config = command === 'serve' ? withDemoDashboardToken(configured) : configured;
  if (command === 'persist') {
    await runPersisterOnly(config, armShutdownDeadline);
    // Handles a library left open (keep-alive sockets) must not keep a stopped persister alive.
    process.exit(0);
  }
  if (command === 'purge') {
    await runPurgeOnce(config);
    process.exit(0);
  }
  await checkListenable(config.host, [
    ['PORT', config.port],
    ['METRICS_PORT', config.metricsPort ?? 0],
  ]);
  const app = await buildApp(config, { prettyLog: process.stdout.isTTY === true }).catch((err: unknown) => {
    throw dataDirError(err, config.dataDir);
  });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    armShutdownDeadline();
    app.log.info(`${signal}: stopping${config.persister ? ' (draining the persister)' : ''}`);
    // Fastify's close stops accepting, waits for in-flight requests, then runs onClose (persister, Redis, db).
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  const url = await app.listen({ port: config.port, host: config.host }).catch(async (err: unknown) => {
    await app.close();
    throw listenError(err, 'PORT', config.host, config.port);
  });
  app.log.info(
    `devicelink collector listening on ${url} (${app.collector.mode}${config.persister ? '' : ', persister off'})`,
  );
  if (config.demo) announceDemo(url, config === configured ? null : config.dashboardToken);
  const metricsApp = app.collector.metricsApp;
  if (metricsApp && config.metricsPort !== null) {
    const metricsUrl = await metricsApp
      .listen({ port: config.metricsPort, host: config.host })
      .catch(async (err) => {
        await app.close();
        throw listenError(err, 'METRICS_PORT', config.host, config.metricsPort ?? 0);
      });
    app.log.info(`devicelink metrics on ${metricsUrl}/metrics`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (isConfigError(err)) {
    console.error(`devicelink: configuration error: ${(err as Error).message}`);
    process.exit(2);
  }
  if (err instanceof UsageError) {
    console.error(`devicelink: ${err.message}`);
    process.exit(2);
  }
  if (isStartupError(err)) {
    console.error(`devicelink: cannot start: ${err.message}`);
    process.exit(1);
  }
  console.error('devicelink: failed to start:', err);
  process.exit(1);
});
