/**
 * @devicelink/collector as a library: build the app from a configuration (tests, embedding), and the
 * pieces the command line uses.
 */
export type { BuildAppOptions } from './app.js';
export { buildApp } from './app.js';
export type { CollectorConfig, JwtKeyConfig, RedisConfig } from './config/collector-config.js';
export { ConfigError, loadConfig } from './config/collector-config.js';
export { isConfigError } from './config/config-error.js';
// The dashboard's roll-up SQL, for the bench's plan checks.
export { timeSeriesQuery, topQuery } from './read/rollup-queries.js';
// The stats SQL, for the bench's plan checks on a million rows.
export { pageViewsBeforeConversionQuery, sessionStatsQuery } from './read/stats-queries.js';
