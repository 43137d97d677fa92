/**
 * The one place tests, e2e and benchmarks read their environment (services, browser) and get what
 * they build on it: names, databases, Redis keys, the services of a scope, the process launcher.
 * Vitest fixtures are in the subpath `@devicelink/test-env/fixtures`, the run's leak check in
 * `@devicelink/test-env/leak-check` (a global setup).
 */
export { Cleanups } from './cleanups.js';
export { PGLITE_TEMPLATE_ENV, tempDataDir } from './data-dir.js';
export {
  COLLECTOR_SERVER,
  type CollectorProcessOptions,
  type Exit,
  type ProcessOptions,
  type RunningProcess,
  startCollectorProcess,
  startProcess,
} from './process-launcher.js';
export { startRedisCluster, type TestRedisCluster } from './redis-cluster.js';
export { redisClusterGlobalSetup } from './redis-cluster-setup.js';
export { deleteKeys, scanKeys } from './redis-keys.js';
export {
  type RedisServerOptions,
  redisServerAvailable,
  startRedisServer,
  type TestRedisServer,
} from './redis-server.js';
export { startTcpProxy, type TcpProxy, throughProxy } from './tcp-proxy.js';
export { createTestDatabase, databasesLike, type TestDatabase } from './test-database.js';
export { CHROMIUM_FLAGS, hasServices, type Service, testEnv } from './test-env.js';
export { runTag, testDatabaseName, uniquePrefix } from './test-names.js';
export { openServices, type TestServices } from './test-services.js';
export { waitFor } from './wait-for.js';
