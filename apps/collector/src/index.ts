/**
 * @devicelink/collector as a library: build the app from a configuration (tests, embedding), and the
 * pieces the command line uses.
 */
export type { BuildAppOptions } from './app.js';
export { buildApp } from './app.js';
export type { CollectorConfig, JwtKeyConfig, RedisConfig } from './config/collector-config.js';
export { ConfigError, loadConfig } from './config/collector-config.js';
export { isConfigError } from './config/config-error.js';
export type { CollectorDb } from './db/create-db.js';
export { createDb } from './db/create-db.js';
export { migrateToLatest } from './db/migrate.js';
export type { Database } from './db/schema.js';
export type { PersisterOptions, PersisterStatus } from './persister/persister.js';
export { Persister } from './persister/persister.js';
