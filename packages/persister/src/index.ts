/**
 * @devicelink/persister: moves the queue of a `@devicelink/fastify` store into Postgres (schema,
 * migrations, the persister, its conversion rule and erasures). Run one wherever the plugin runs on
 * Redis: same prefix, same partition count.
 *
 * @example
 * import { createDb, createPersister, migrate } from '@devicelink/persister';
 * const { db, close } = await createDb({ databaseUrl: 'postgres://127.0.0.1/devicelink' });
 * await migrate(db);
 * const persister = createPersister({ db, queue: store });
 * persister.start();
 */
export type { BatchResult } from './batch-writer.js';
export type { DbConfig, PersisterDb } from './create-db.js';
export { createDb } from './create-db.js';
export type { DeadLetter, DeadLetterPage, DeadLetterRef, ReplayResult } from './dead-letters.js';
export { listDeadLetters, replayDeadLetters } from './dead-letters.js';
export type { FleetOptions, FleetResult } from './fleet-detection.js';
export { DEFAULT_FLEET_OPTIONS, FLEET_WRITER, markFleets } from './fleet-detection.js';
export { migrate } from './migrate.js';
export { migrationProvider } from './migrations/index.js';
export type { PersistOptions } from './persist-command.js';
export { persist } from './persist-command.js';
export type { Persister, PersisterOptions, PersisterStatus } from './persister.js';
export { createPersister } from './persister.js';
export type { PurgeResult, RetentionOptions, RetentionStep } from './retention.js';
export { purgeExpired, retentionCutoff } from './retention.js';
export type { FoldOptions, FoldResult } from './rollup-folding.js';
export { FOLD_WRITER, foldRollups } from './rollup-folding.js';
export type { SessionRollupState } from './rollup-metrics.js';
export {
  binOf,
  DEFAULT_ROLLUP_KEYS_PER_HOUR,
  KEYED_METRICS,
  METRICS,
  pageKeySql,
  ROLLUP_OTHER_KEY,
  referrerKeySql,
  TIME_TO_CONVERT_BINS,
  VIEWS_BEFORE_CONVERSION_BINS,
} from './rollup-metrics.js';
export type { RollupCounts } from './rollup-rebuild.js';
export { rebuildRollups, recountRollups, summedRollups } from './rollup-rebuild.js';
export type {
  AuditLogTable,
  Database,
  DeadLettersTable,
  Device,
  DeviceEdge,
  DeviceEdgesTable,
  DevicesTable,
  EdgeWithdrawalsTable,
  ErasedDevicesTable,
  ErasedUsersTable,
  FingerprintRevocationsTable,
  IdentityLink,
  IdentityLinksTable,
  NewDevice,
  NewDeviceEdge,
  NewIdentityLink,
  NewPageView,
  NewSession,
  PageView,
  PageViewsTable,
  RollupHourlyTable,
  RollupKeptTable,
  Session,
  SessionRollupsTable,
  SessionsTable,
} from './schema.js';
export { DeadLetterLimitError, isDataError, isTransientError } from './write-failures.js';
