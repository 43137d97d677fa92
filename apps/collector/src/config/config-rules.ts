/**
 * The rules that join several variables, checked after the schema validated each alone, in this order
 * (the first broken one names its variable): one store and one JWT key, what production refuses or
 * requires, the demo, and the bounds one variable sets for another.
 */
import { ConfigError } from './config-error.js';
import type { EnvValues } from './env-schema.js';

/** A rule: a ConfigError naming the variable at fault, or null when the rule holds. */
type Rule = (v: EnvValues) => ConfigError | null;

const production = (v: EnvValues) => v.NODE_ENV === 'production';
const redisVariable = (v: EnvValues) => (v.REDIS_URL ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES');

const oneRedis: Rule = (v) =>
  v.REDIS_URL && v.REDIS_CLUSTER_NODES
    ? new ConfigError('REDIS_URL', 'and REDIS_CLUSTER_NODES are both set; configure one of them')
    : null;

const redisNeedsDatabase: Rule = (v) =>
  (v.REDIS_URL || v.REDIS_CLUSTER_NODES) && !v.DATABASE_URL
    ? new ConfigError(
        redisVariable(v),
        'is set without DATABASE_URL: collectors sharing Redis must share one Postgres (set DATABASE_URL)',
      )
    : null;

const oneJwtKey: Rule = (v) => {
  const set = (['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'] as const).filter((name) => v[name]);
  return set.length > 1
    ? new ConfigError(set[0]!, `and ${set.slice(1).join(', ')} are both set; configure exactly one key`)
    : null;
};

const noDemoInProduction: Rule = (v) =>
  v.DEMO && production(v)
    ? new ConfigError('DEMO', 'is refused with NODE_ENV=production (demo users have known passwords)')
    : null;

const noDebugRoutesInProduction: Rule = (v) =>
  v.DEBUG_ROUTES && production(v)
    ? new ConfigError(
        'DEBUG_ROUTES',
        "is refused with NODE_ENV=production (GET /v1/session tells anyone holding a device id what became of that device's evidence)",
      )
    : null;

const noDemoWithJwtKey: Rule = (v) =>
  v.DEMO && (v.JWT_SECRET || v.JWT_PUBLIC_KEY || v.JWT_JWKS_URL)
    ? new ConfigError('DEMO', 'is refused together with a JWT key (the demo signs its own tokens)')
    : null;

/** After the DEMO rules, so those name DEMO; HS256 keys shorter than 256 bits are guessable. */
const jwtSecretLength: Rule = (v) =>
  v.JWT_SECRET !== undefined && v.JWT_SECRET.length < 32
    ? new ConfigError('JWT_SECRET', `must be at least 32 characters, got ${v.JWT_SECRET.length}`)
    : null;

const dashboardTokenDiffers: Rule = (v) =>
  v.DASHBOARD_TOKEN !== undefined && v.DASHBOARD_TOKEN === v.ADMIN_TOKEN
    ? new ConfigError('DASHBOARD_TOKEN', 'must differ from ADMIN_TOKEN (it is the read-only one)')
    : null;

const retentionCoversLookback: Rule = (v) =>
  v.RETENTION_DAYS !== undefined && v.RETENTION_DAYS < v.CONVERSION_LOOKBACK_DAYS
    ? new ConfigError(
        'RETENTION_DAYS',
        `must not be shorter than CONVERSION_LOOKBACK_DAYS (${v.CONVERSION_LOOKBACK_DAYS}): a link could no longer convert the sessions before it`,
      )
    : null;

const sameSiteNoneIsSecure: Rule = (v) =>
  v.COOKIE_SAMESITE === 'none' && !v.COOKIE_SECURE
    ? new ConfigError('COOKIE_SAMESITE', 'none requires COOKIE_SECURE=true (browsers drop it otherwise)')
    : null;

const partitionedIsCrossSite: Rule = (v) =>
  v.COOKIE_PARTITIONED && (v.COOKIE_SAMESITE !== 'none' || !v.COOKIE_SECURE)
    ? new ConfigError(
        'COOKIE_PARTITIONED',
        '=true requires COOKIE_SAMESITE=none and COOKIE_SECURE=true (a collector on another site)',
      )
    : null;

const sessionMaxCoversIdle: Rule = (v) =>
  v.SESSION_MAX_SECONDS < v.SESSION_IDLE_SECONDS
    ? new ConfigError('SESSION_MAX_SECONDS', 'must not be shorter than SESSION_IDLE_SECONDS')
    : null;

const saltKeyWithRedisInProduction: Rule = (v) =>
  v.SALT_KEY === undefined && production(v) && (v.REDIS_URL || v.REDIS_CLUSTER_NODES)
    ? new ConfigError(
        'SALT_KEY',
        'is required with NODE_ENV=production and Redis (it seals the daily salt: without it whoever reads Redis can reverse visitor hashes); make one with: openssl rand -base64 32',
      )
    : null;

const metricsPortDiffers: Rule = (v) =>
  v.METRICS_PORT !== undefined && v.METRICS_PORT !== 0 && v.METRICS_PORT === v.PORT
    ? new ConfigError('METRICS_PORT', `must differ from PORT (${v.PORT}); unset it to serve /metrics on PORT`)
    : null;

/** Every rule, in the order they are checked. */
const RULES: readonly Rule[] = [
  oneRedis,
  redisNeedsDatabase,
  oneJwtKey,
  noDemoInProduction,
  noDebugRoutesInProduction,
  noDemoWithJwtKey,
  jwtSecretLength,
  dashboardTokenDiffers,
  retentionCoversLookback,
  sameSiteNoneIsSecure,
  partitionedIsCrossSite,
  sessionMaxCoversIdle,
  saltKeyWithRedisInProduction,
  metricsPortDiffers,
];

/**
 * Throws the {@link ConfigError} of the first broken rule.
 *
 * @example
 * checkConfigRules(readEnv(env));
 */
export function checkConfigRules(v: EnvValues): void {
  for (const rule of RULES) {
    const error = rule(v);
    if (error) throw error;
  }
}
