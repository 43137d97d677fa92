/**
 * Names of what tests create on the shared Redis and Postgres, made recognisable so a run can check
 * at its end that it left nothing behind: Redis key prefixes `dl:t-<run>-<label>-<random>:` and
 * databases `dl_t<run>_<label>_<random>`. `<run>` is the tag the root global setup sets for one
 * `vitest` run (`DL_TEST_RUN`); outside such a run (e2e or bench alone) each process picks its own.
 */
import { randomBytes } from 'node:crypto';
import { testEnv } from './test-env.js';

const RUN_TAG = /^[a-z0-9]{4,12}$/;
let ownTag: string | undefined;

/** A fresh run tag: lowercase letters and digits, valid in a key and in a database name. */
export function newRunTag(): string {
  return randomBytes(4).toString('hex');
}

/** The run tag of this process: the global setup's, else one of its own. */
export function runTag(): string {
  if (testEnv.runTag && RUN_TAG.test(testEnv.runTag)) return testEnv.runTag;
  ownTag ??= newRunTag();
  return ownTag;
}

/** The Redis key pattern (for SCAN MATCH) of every prefix a run made. */
export function runKeyPattern(tag = runTag()): string {
  return `dl:t-${tag}-*`;
}

/** The SQL LIKE pattern of every database a run made. */
export function runDatabasePattern(tag = runTag()): string {
  return `dl_t${tag}\\_%`;
}

/**
 * A fresh Redis key prefix, so parallel tests never touch each other's keys (Cluster has only db 0).
 *
 * @example uniquePrefix('erasure') // 'dl:t-3f9a01bc-erasure-9c2e41d0:'
 */
export function uniquePrefix(label = 't'): string {
  return `dl:t-${runTag()}-${label.replace(/[^\w-]/g, '_')}-${randomBytes(4).toString('hex')}:`;
}

/** A fresh database name under the run's pattern, at most 63 characters (Postgres' limit). */
export function testDatabaseName(label = 'test'): string {
  const clean = label.replace(/\W/g, '_').toLowerCase().slice(0, 30);
  return `dl_t${runTag()}_${clean}_${randomBytes(5).toString('hex')}`;
}
