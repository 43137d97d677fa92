/**
 * The collector's configuration (docs/protocol.md, Configuration): the one module that reads
 * `process.env` (Biome's noProcessEnv keeps it that way). Every variable is declared once in
 * `env-schema.ts`, read and validated by it at start-up (`env-reader.ts`), then checked against the
 * others (`config-rules.ts`); a bad value or a refused combination throws a {@link ConfigError} naming
 * the variable.
 */

import { resolve } from 'node:path';
import type { FleetOptions } from '@devicelink/persister';
import { checkConfigRules } from './config-rules.js';
import { type Env, readEnv } from './env-reader.js';
import type { EnvValues } from './env-schema.js';
import {
  corsOriginsOf,
  type JwtKeyConfig,
  jwtOf,
  type RedisConfig,
  redisOf,
  saltKeyOf,
  trustProxyOf,
} from './structured-values.js';

export { ConfigError } from './config-error.js';
export type { JwtKeyConfig, RedisConfig } from './structured-values.js';

/** The parsed, validated configuration. Frozen. */
export interface CollectorConfig {
  readonly port: number;
  readonly host: string;
  readonly production: boolean;
  readonly logLevel: string;
  /** Null: the embedded memory store with a journal in `dataDir`. */
  readonly redis: RedisConfig | null;
  /** Prefix of every Redis key (`REDIS_KEY_PREFIX`, default `dl:`): separate deployments or tests on one Redis. */
  readonly redisKeyPrefix: string;
  /** Null: embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | null;
  /** Absolute path. */
  readonly dataDir: string;
  readonly persister: boolean;
  /**
   * Lease time of a queue partition, seconds (`PERSISTER_LEASE_SECONDS`, default 10): a dead or
   * frozen persister's partitions move to a live one within it. Postgres sessions get a
   * `lock_timeout` of a quarter of it (at most 2.5 s) and an `idle_in_transaction_session_timeout` of
   * half of it.
   */
  readonly persisterLeaseSeconds: number;
  /** Null: no token verification configured (identify answers 401). */
  readonly jwt: JwtKeyConfig | null;
  readonly jwtIssuer: string | null;
  readonly jwtAudience: string | null;
  /** Null: admin routes do not exist. */
  readonly adminToken: string | null;
  /**
   * `DASHBOARD_TOKEN`: read-only access to the dashboard and the read routes (never erasure). With
   * neither token the dashboard and read routes do not exist (404).
   */
  readonly dashboardToken: string | null;
  /** `RETENTION_DAYS`: rows older than this are removed, hourly and by `purge`; null keeps everything. */
  readonly retentionDays: number | null;
  /** Null: no CORS headers. */
  readonly corsOrigins: readonly string[] | null;
  /** False, a hop count, or a list of trusted proxy addresses/CIDRs. */
  readonly trustProxy: false | readonly string[];
  readonly sessionIdleSeconds: number;
  readonly sessionMaxSeconds: number;
  readonly cookieSecure: boolean;
  readonly cookieSameSite: 'lax' | 'strict' | 'none';
  /** `COOKIE_DOMAIN`: the cookie's `Domain` (a parent domain shared with the app); null: host-only. */
  readonly cookieDomain: string | null;
  /** `COOKIE_PARTITIONED`: `Partitioned` (CHIPS) for a collector on another site than the app. */
  readonly cookiePartitioned: boolean;
  /**
   * Fingerprint joins (docs/protocol.md): `RECOVERY` (`on` default, `off`), `RECOVERY_SECRET` (keys
   * the hashes; null: joins off, unless embedded, where one is made in `DATA_DIR`), `RECOVERY_DAYS`.
   */
  readonly recovery: { readonly enabled: boolean; readonly secret: string | null; readonly days: number };
  /**
   * Caps of new fingerprint entries per UTC day: `RECOVERY_NETWORK_DAILY_CAP` per IPv4 /24 or IPv6
   * /48, `RECOVERY_BLOCK_DAILY_PERCENT` of `RECOVERY_DAILY_CAP` per IPv4 /16 or IPv6 /32, and
   * `RECOVERY_DAILY_CAP` in all. Existing entries are never evicted.
   */
  readonly recoveryCaps: {
    readonly networkDaily: number;
    readonly blockDailyPercent: number;
    readonly daily: number;
  };
  /**
   * Limits on new device ids (not page views of known ids) per `NEW_IDS_WINDOW_SECONDS`:
   * `NEW_IDS_PER_ADDRESS` per IPv4 address or IPv6 /64, `NEW_IDS_PER_NETWORK` per IPv4 /24 or IPv6
   * /48, `NEW_IDS_PER_BLOCK` per IPv6 /32.
   */
  readonly newIdLimits: {
    readonly windowSeconds: number;
    readonly perAddress: number;
    readonly perNetwork: number;
    readonly perBlock: number;
  };
  readonly honorGpc: boolean;
  readonly rateLimitPerMinute: number;
  /** Longest time a client may take to send a whole request, seconds (`REQUEST_TIMEOUT_SECONDS`). */
  readonly requestTimeoutSeconds: number;
  /** Longest silence on a connection before it is closed, seconds (`CONNECTION_TIMEOUT_SECONDS`). */
  readonly connectionTimeoutSeconds: number;
  /**
   * Failed authentications per minute per client address (`ADMIN_RATE_LIMIT_PER_MINUTE`, default 60),
   * one counter for every route that takes an operator's token; a valid token is never refused.
   */
  readonly adminRateLimitPerMinute: number;
  /**
   * `READYZ_DETAILS`: `open` shows every caller of `/readyz` its details; `token` (the default with
   * `NODE_ENV=production`) shows them only to a request with the admin, dashboard or metrics token,
   * the others get the status alone.
   */
  readonly readyzDetailsOpen: boolean;
  /**
   * `SALT_KEY`: 32 bytes (64 hex digits or base64) sealing the daily salt in Redis (AES-256-GCM), so
   * whoever reads Redis alone cannot reverse visitor hashes. Required with Redis and
   * `NODE_ENV=production`; null: the salt is stored unsealed (outside production, with a warning), or
   * the embedded store (which keeps it in process memory and its `DATA_DIR` snapshot).
   */
  readonly saltKey: Buffer | null;
  /** `METRICS_PORT`: null serves `/metrics` on `port`; else only on this port (same `host`). */
  readonly metricsPort: number | null;
  /** `METRICS_TOKEN`: null leaves `/metrics` open; else scrapes send `Authorization: Bearer <token>`. */
  readonly metricsToken: string | null;
  readonly conversionLookbackDays: number;
  /**
   * `ROLLUP_KEYS_PER_HOUR` (default 100): distinct pages (and referrer origins, entry pages, entry
   * referrers) a past hour's roll-ups keep by name per traffic class; the rest are counted under
   * `(other)`, so the roll-ups do not grow with every new URL.
   */
  readonly rollupKeysPerHour: number;
  readonly queuePartitions: number;
  readonly queryAllowlist: readonly string[];
  /**
   * Bots and automation (docs/protocol.md): `BOT_FILTER` (`on` default: page views are classified and
   * non-human devices make no fingerprint join; `off`: nothing is classified, as before) and
   * `BOT_ALLOWLIST` (user-agent substrings of the operator's own monitors, counted as human).
   */
  readonly botFilter: {
    readonly enabled: boolean;
    readonly allowlist: readonly string[];
    /** The fleet job's thresholds (`FLEET_WINDOW_MINUTES`, `FLEET_MIN_IDS`, `FLEET_MIN_SHARE_PERCENT`, `FLEET_QUIET_MINUTES`). */
    readonly fleet: FleetOptions;
  };
  readonly debugRoutes: boolean;
  readonly demo: boolean;
}

/** Where it listens, its store, database and keys, and who may call it. */
function operatorConfig(v: EnvValues, production: boolean) {
  return {
    port: v.PORT,
    host: v.HOST,
    production,
    logLevel: v.LOG_LEVEL,
    redis: redisOf(v),
    redisKeyPrefix: v.REDIS_KEY_PREFIX,
    databaseUrl: v.DATABASE_URL ?? null,
    dataDir: resolve(v.DATA_DIR),
    persister: v.PERSISTER === 'on',
    persisterLeaseSeconds: v.PERSISTER_LEASE_SECONDS,
    jwt: jwtOf(v),
    jwtIssuer: v.JWT_ISSUER ?? null,
    jwtAudience: v.JWT_AUDIENCE ?? null,
    adminToken: v.ADMIN_TOKEN ?? null,
    dashboardToken: v.DASHBOARD_TOKEN ?? null,
    retentionDays: v.RETENTION_DAYS ?? null,
    trustProxy: trustProxyOf(v),
    adminRateLimitPerMinute: v.ADMIN_RATE_LIMIT_PER_MINUTE,
    requestTimeoutSeconds: v.REQUEST_TIMEOUT_SECONDS,
    connectionTimeoutSeconds: v.CONNECTION_TIMEOUT_SECONDS,
    metricsPort: v.METRICS_PORT ?? null,
    metricsToken: v.METRICS_TOKEN ?? null,
    saltKey: saltKeyOf(v),
    readyzDetailsOpen: v.READYZ_DETAILS === 'open',
    conversionLookbackDays: v.CONVERSION_LOOKBACK_DAYS,
    rollupKeysPerHour: v.ROLLUP_KEYS_PER_HOUR,
    queuePartitions: v.QUEUE_PARTITIONS,
    debugRoutes: v.DEBUG_ROUTES,
    demo: v.DEMO,
  };
}

/** What it does with browsers: the cookie, fingerprint joins and their caps, bots, sessions, limits. */
function visitorConfig(v: EnvValues) {
  const recovery = v.RECOVERY === 'on';
  return {
    corsOrigins: corsOriginsOf(v),
    sessionIdleSeconds: v.SESSION_IDLE_SECONDS,
    sessionMaxSeconds: v.SESSION_MAX_SECONDS,
    cookieSecure: v.COOKIE_SECURE,
    cookieSameSite: v.COOKIE_SAMESITE,
    cookieDomain: v.COOKIE_DOMAIN ?? null,
    cookiePartitioned: v.COOKIE_PARTITIONED,
    // Off: no secret is kept, so nothing can hash evidence.
    recovery: Object.freeze({
      enabled: recovery,
      secret: recovery ? (v.RECOVERY_SECRET ?? null) : null,
      days: v.RECOVERY_DAYS,
    }),
    recoveryCaps: Object.freeze({
      networkDaily: v.RECOVERY_NETWORK_DAILY_CAP,
      blockDailyPercent: v.RECOVERY_BLOCK_DAILY_PERCENT,
      daily: v.RECOVERY_DAILY_CAP,
    }),
    newIdLimits: Object.freeze({
      windowSeconds: v.NEW_IDS_WINDOW_SECONDS,
      perAddress: v.NEW_IDS_PER_ADDRESS,
      perNetwork: v.NEW_IDS_PER_NETWORK,
      perBlock: v.NEW_IDS_PER_BLOCK,
    }),
    honorGpc: v.HONOR_GPC,
    rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE,
    queryAllowlist: v.QUERY_ALLOWLIST,
    botFilter: Object.freeze({
      enabled: v.BOT_FILTER === 'on',
      allowlist: Object.freeze([...v.BOT_ALLOWLIST]),
      fleet: Object.freeze({
        windowMinutes: v.FLEET_WINDOW_MINUTES,
        minIds: v.FLEET_MIN_IDS,
        minSharePercent: v.FLEET_MIN_SHARE_PERCENT,
        quietMinutes: v.FLEET_QUIET_MINUTES,
      }),
    }),
  };
}

/**
 * Parses and validates the configuration. Throws a {@link ConfigError} naming the first bad variable:
 * the schema's checks of each variable first, then the rules that join several.
 *
 * @example
 * const config = loadConfig({ PORT: '0', DATA_DIR: tmp });
 */
export function loadConfig(env: Env = process.env): CollectorConfig {
  const values = readEnv(env);
  checkConfigRules(values);
  const config: CollectorConfig = {
    ...operatorConfig(values, values.NODE_ENV === 'production'),
    ...visitorConfig(values),
  };
  return Object.freeze(config);
}
