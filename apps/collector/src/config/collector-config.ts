/**
 * The collector's configuration (docs/protocol.md, Configuration): the one module that reads
 * `process.env` (Biome's noProcessEnv keeps it that way). Every variable is parsed and validated once,
 * at start-up; a bad value or a refused combination throws a {@link ConfigError} naming the variable.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import {
  DEFAULT_FLEET_OPTIONS,
  DEFAULT_ROLLUP_KEYS_PER_HOUR,
  type FleetOptions,
} from '@devicelink/persister';
import {
  DEFAULT_QUERY_ALLOWLIST,
  DEFAULT_QUEUE_PARTITIONS,
  DEFAULT_SESSION_IDLE_SECONDS,
  DEFAULT_SESSION_MAX_SECONDS,
} from '@devicelink/protocol';
import { ConfigError } from './config-error.js';

export { ConfigError } from './config-error.js';

/** How tokens are verified: one of the three key sources, or a demo key made at start-up. */
export type JwtKeyConfig =
  | { kind: 'secret'; secret: string; algorithm: 'HS256' }
  | { kind: 'public-key'; key: string; algorithm: 'RS256' | 'ES256' }
  | { kind: 'jwks'; url: string };

/** Where the live sessions and the queue live. */
export type RedisConfig =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: ReadonlyArray<{ host: string; port: number }> };

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

type Env = Record<string, string | undefined>;

/** The variable's value with surrounding blanks removed; undefined when unset or blank. */
function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = read(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = read(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/**
 * `SALT_KEY`: 32 bytes as 64 hex digits or base64 / base64url (43 or 44 characters); null when unset.
 * The value is never echoed in the error.
 */
function parseSaltKey(env: Env): Buffer | null {
  const v = read(env, 'SALT_KEY');
  if (v === undefined) return null;
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(v)) key = Buffer.from(v, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(v)) key = Buffer.from(v.replace(/=$/, ''), 'base64url');
  if (key === null || key.length !== 32) {
    throw new ConfigError(
      'SALT_KEY',
      `must be 32 bytes written as 64 hex digits or base64 (openssl rand -base64 32), got ${v.length} characters`,
    );
  }
  return key;
}

/** pino's levels, and `silent`. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = read(env, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}; got "${v}"`);
  }
  return v as T;
}

/** `BOT_FILTER` and `BOT_ALLOWLIST`. */
function parseBotFilter(env: Env): CollectorConfig['botFilter'] {
  const value = (read(env, 'BOT_FILTER') ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(value)) {
    throw new ConfigError('BOT_FILTER', `must be "on" or "off", got "${env.BOT_FILTER}"`);
  }
  const allowlist = list(env.BOT_ALLOWLIST ?? '');
  const short = allowlist.find((entry) => entry.length < 3);
  // A one- or two-letter substring would allow nearly every crawler back in.
  if (short !== undefined) {
    throw new ConfigError('BOT_ALLOWLIST', `entries must be at least 3 characters, got "${short}"`);
  }
  const fleet: FleetOptions = Object.freeze({
    windowMinutes: int(env, 'FLEET_WINDOW_MINUTES', DEFAULT_FLEET_OPTIONS.windowMinutes, 1, 10_080),
    minIds: int(env, 'FLEET_MIN_IDS', DEFAULT_FLEET_OPTIONS.minIds, 2, 10_000_000),
    minSharePercent: int(env, 'FLEET_MIN_SHARE_PERCENT', DEFAULT_FLEET_OPTIONS.minSharePercent, 1, 100),
    quietMinutes: int(env, 'FLEET_QUIET_MINUTES', DEFAULT_FLEET_OPTIONS.quietMinutes, 1, 10_080),
  });
  return Object.freeze({ enabled: value === 'on', allowlist: Object.freeze(allowlist), fleet });
}

function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function parseRedis(env: Env): RedisConfig | null {
  const url = read(env, 'REDIS_URL');
  const nodes = read(env, 'REDIS_CLUSTER_NODES');
  if (url && nodes) {
    throw new ConfigError('REDIS_URL', 'and REDIS_CLUSTER_NODES are both set; configure one of them');
  }
  if (url) {
    if (!/^rediss?:\/\//.test(url)) {
      throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
    }
    return { kind: 'single', url };
  }
  if (nodes) {
    return {
      kind: 'cluster',
      nodes: list(nodes).map((seed) => {
        const m = /^(.+):(\d{1,5})$/.exec(seed);
        if (!m) throw new ConfigError('REDIS_CLUSTER_NODES', `"${seed}" is not host:port`);
        return { host: m[1]!, port: Number(m[2]) };
      }),
    };
  }
  return null;
}

/** The algorithm a PEM public key signs with: RS256 for RSA, ES256 for P-256; the contract allows no other. */
function publicKeyAlgorithm(key: KeyObject): 'RS256' | 'ES256' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    throw new ConfigError(
      'JWT_PUBLIC_KEY',
      `is an EC key on curve ${curve ?? 'unknown'}; only P-256 (ES256) or RSA (RS256) keys are accepted`,
    );
  }
  throw new ConfigError('JWT_PUBLIC_KEY', `is a ${key.asymmetricKeyType} key; use an RSA or P-256 EC key`);
}

function parseJwt(env: Env): JwtKeyConfig | null {
  const secret = read(env, 'JWT_SECRET');
  // PEM keys pasted into one-line environments often carry literal "\n".
  const pem = read(env, 'JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n');
  const jwks = read(env, 'JWT_JWKS_URL');
  const set = [secret && 'JWT_SECRET', pem && 'JWT_PUBLIC_KEY', jwks && 'JWT_JWKS_URL'].filter(
    Boolean,
  ) as string[];
  if (set.length > 1) {
    throw new ConfigError(set[0]!, `and ${set.slice(1).join(', ')} are both set; configure exactly one key`);
  }
  if (secret) return { kind: 'secret', secret, algorithm: 'HS256' };
  if (pem) {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new ConfigError('JWT_PUBLIC_KEY', 'is not a PEM public key');
    }
    return { kind: 'public-key', key: pem, algorithm: publicKeyAlgorithm(key) };
  }
  if (jwks) {
    let url: URL;
    try {
      url = new URL(jwks);
    } catch {
      throw new ConfigError('JWT_JWKS_URL', `is not a URL: "${jwks}"`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError('JWT_JWKS_URL', 'must be an http(s) URL');
    }
    return { kind: 'jwks', url: url.toString() };
  }
  return null;
}

function parseCors(env: Env): string[] | null {
  const v = read(env, 'CORS_ORIGINS');
  if (v === undefined) return null;
  const origins = list(v);
  return origins.map((o) => {
    if (o === '*' || o.includes('*')) {
      throw new ConfigError('CORS_ORIGINS', 'must list exact origins; "*" is refused (credentials are sent)');
    }
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError('CORS_ORIGINS', `"${o}" is not an origin like https://app.example.com`);
    }
    if (url.origin !== o.replace(/\/$/, '')) {
      throw new ConfigError('CORS_ORIGINS', `"${o}" is not an origin (scheme, host and port only)`);
    }
    return url.origin;
  });
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function parseTrustProxy(env: Env): false | string[] {
  const v = read(env, 'TRUST_PROXY');
  if (v === undefined || ['false', 'off', '0', 'no'].includes(v.toLowerCase())) return false;
  // Fastify 5 trusts no forwarded address for a bare hop count (it cannot check the immediate peer),
  // so `1` would silently give every client the proxy's address: refuse it and ask for the addresses.
  if (/^\d+$/.test(v)) {
    throw new ConfigError(
      'TRUST_PROXY',
      `a hop count (${v}) is not enough: give the addresses or CIDR ranges of your proxies (e.g. 10.0.0.0/8,127.0.0.1)`,
    );
  }
  return list(v).map((entry) => {
    if (PROXY_NAMES.includes(entry)) return entry;
    const [addr, prefix, ...rest] = entry.split('/');
    const family = isIP(addr ?? '');
    const max = family === 4 ? 32 : 128;
    const okPrefix = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= max);
    if (family === 0 || !okPrefix || rest.length > 0) {
      throw new ConfigError(
        'TRUST_PROXY',
        `"${entry}" is not an address or CIDR range (e.g. 10.0.0.0/8,127.0.0.1)`,
      );
    }
    return entry;
  });
}

/**
 * Parses and validates the configuration. Throws a {@link ConfigError} naming the first bad variable.
 *
 * @example
 * const config = loadConfig({ PORT: '0', DATA_DIR: tmp });
 */
export function loadConfig(env: Env = process.env): CollectorConfig {
  const production = read(env, 'NODE_ENV') === 'production';
  const redis = parseRedis(env);
  const databaseUrl = read(env, 'DATABASE_URL') ?? null;
  if (redis && !databaseUrl) {
    throw new ConfigError(
      redis.kind === 'single' ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES',
      'is set without DATABASE_URL: collectors sharing Redis must share one Postgres (set DATABASE_URL)',
    );
  }
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  const persisterValue = (read(env, 'PERSISTER') ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(persisterValue)) {
    throw new ConfigError('PERSISTER', `must be "on" or "off", got "${env.PERSISTER}"`);
  }
  const jwt = parseJwt(env);
  const demo = bool(env, 'DEMO', false);
  if (demo && production) {
    throw new ConfigError('DEMO', 'is refused with NODE_ENV=production (demo users have known passwords)');
  }
  if (bool(env, 'DEBUG_ROUTES', false) && production) {
    throw new ConfigError(
      'DEBUG_ROUTES',
      "is refused with NODE_ENV=production (GET /v1/session tells anyone holding a device id what became of that device's evidence)",
    );
  }
  if (demo && jwt) {
    throw new ConfigError('DEMO', 'is refused together with a JWT key (the demo signs its own tokens)');
  }
  // Checked after the DEMO combinations so those name DEMO; HS256 keys shorter than 256 bits are guessable.
  if (jwt?.kind === 'secret' && jwt.secret.length < 32) {
    throw new ConfigError('JWT_SECRET', `must be at least 32 characters, got ${jwt.secret.length}`);
  }
  const adminToken = read(env, 'ADMIN_TOKEN') ?? null;
  if (adminToken !== null && adminToken.length < 32) {
    throw new ConfigError('ADMIN_TOKEN', `must be at least 32 characters, got ${adminToken.length}`);
  }
  const dashboardToken = read(env, 'DASHBOARD_TOKEN') ?? null;
  if (dashboardToken !== null && dashboardToken.length < 32) {
    throw new ConfigError('DASHBOARD_TOKEN', `must be at least 32 characters, got ${dashboardToken.length}`);
  }
  if (dashboardToken !== null && dashboardToken === adminToken) {
    throw new ConfigError('DASHBOARD_TOKEN', 'must differ from ADMIN_TOKEN (it is the read-only one)');
  }
  const conversionLookbackDays = int(env, 'CONVERSION_LOOKBACK_DAYS', 30, 1, 3650);
  const retentionDays =
    read(env, 'RETENTION_DAYS') === undefined ? null : int(env, 'RETENTION_DAYS', 0, 1, 36_500);
  if (retentionDays !== null && retentionDays < conversionLookbackDays) {
    throw new ConfigError(
      'RETENTION_DAYS',
      `must not be shorter than CONVERSION_LOOKBACK_DAYS (${conversionLookbackDays}): a link could no longer convert the sessions before it`,
    );
  }
  const cookieSecure = bool(env, 'COOKIE_SECURE', production);
  const sameSite = (read(env, 'COOKIE_SAMESITE') ?? 'lax').toLowerCase();
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    throw new ConfigError('COOKIE_SAMESITE', `must be lax, strict or none, got "${env.COOKIE_SAMESITE}"`);
  }
  if (sameSite === 'none' && !cookieSecure) {
    throw new ConfigError(
      'COOKIE_SAMESITE',
      '=none requires COOKIE_SECURE=true (browsers drop it otherwise)',
    );
  }
  const cookieDomain = read(env, 'COOKIE_DOMAIN') ?? null;
  if (cookieDomain !== null && !/^\.?([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+$/.test(cookieDomain)) {
    throw new ConfigError(
      'COOKIE_DOMAIN',
      `must be a domain name such as example.com, got "${cookieDomain}"`,
    );
  }
  const cookiePartitioned = bool(env, 'COOKIE_PARTITIONED', false);
  if (cookiePartitioned && (sameSite !== 'none' || !cookieSecure)) {
    throw new ConfigError(
      'COOKIE_PARTITIONED',
      '=true requires COOKIE_SAMESITE=none and COOKIE_SECURE=true (a collector on another site)',
    );
  }
  const recoveryValue = (read(env, 'RECOVERY') ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(recoveryValue)) {
    throw new ConfigError('RECOVERY', `must be "on" or "off", got "${env.RECOVERY}"`);
  }
  const recoverySecret = read(env, 'RECOVERY_SECRET') ?? null;
  if (recoverySecret !== null && recoverySecret.length < 32) {
    throw new ConfigError('RECOVERY_SECRET', `must be at least 32 characters, got ${recoverySecret.length}`);
  }
  const sessionIdleSeconds = int(env, 'SESSION_IDLE_SECONDS', DEFAULT_SESSION_IDLE_SECONDS, 1, 31_536_000);
  const sessionMaxSeconds = int(env, 'SESSION_MAX_SECONDS', DEFAULT_SESSION_MAX_SECONDS, 1, 31_536_000);
  if (sessionMaxSeconds < sessionIdleSeconds) {
    throw new ConfigError('SESSION_MAX_SECONDS', 'must not be shorter than SESSION_IDLE_SECONDS');
  }
  const metricsToken = read(env, 'METRICS_TOKEN') ?? null;
  if (metricsToken !== null && metricsToken.length < 32) {
    throw new ConfigError('METRICS_TOKEN', `must be at least 32 characters, got ${metricsToken.length}`);
  }
  const saltKey = parseSaltKey(env);
  if (saltKey === null && production && redis !== null) {
    throw new ConfigError(
      'SALT_KEY',
      'is required with NODE_ENV=production and Redis (it seals the daily salt: without it whoever reads Redis can reverse visitor hashes); make one with: openssl rand -base64 32',
    );
  }
  const port = int(env, 'PORT', 8080, 0, 65_535);
  const metricsPortValue = read(env, 'METRICS_PORT');
  const metricsPort = metricsPortValue === undefined ? null : int(env, 'METRICS_PORT', 0, 0, 65_535);
  if (metricsPort !== null && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError(
      'METRICS_PORT',
      `must differ from PORT (${port}); unset it to serve /metrics on PORT`,
    );
  }
  const allowlist = env.QUERY_ALLOWLIST;
  const config: CollectorConfig = {
    port,
    host: read(env, 'HOST') ?? '127.0.0.1',
    production,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    redis,
    redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'dl:',
    databaseUrl,
    dataDir: resolve(read(env, 'DATA_DIR') ?? './.devicelink'),
    persister: persisterValue === 'on',
    persisterLeaseSeconds: int(env, 'PERSISTER_LEASE_SECONDS', 10, 1, 600),
    jwt,
    jwtIssuer: read(env, 'JWT_ISSUER') ?? null,
    jwtAudience: read(env, 'JWT_AUDIENCE') ?? null,
    adminToken,
    dashboardToken,
    retentionDays,
    corsOrigins: parseCors(env),
    trustProxy: parseTrustProxy(env),
    sessionIdleSeconds,
    sessionMaxSeconds,
    cookieSecure,
    cookieSameSite: sameSite,
    cookieDomain,
    cookiePartitioned,
    recovery: Object.freeze({
      enabled: recoveryValue === 'on',
      secret: recoveryValue === 'on' ? recoverySecret : null,
      days: int(env, 'RECOVERY_DAYS', 30, 1, 3650),
    }),
    recoveryCaps: Object.freeze({
      networkDaily: int(env, 'RECOVERY_NETWORK_DAILY_CAP', 100, 1, 10_000_000),
      blockDailyPercent: int(env, 'RECOVERY_BLOCK_DAILY_PERCENT', 10, 1, 100),
      daily: int(env, 'RECOVERY_DAILY_CAP', 50_000, 1, 1_000_000_000),
    }),
    newIdLimits: Object.freeze({
      windowSeconds: int(env, 'NEW_IDS_WINDOW_SECONDS', 600, 1, 86_400),
      perAddress: int(env, 'NEW_IDS_PER_ADDRESS', 1_000, 1, 10_000_000),
      perNetwork: int(env, 'NEW_IDS_PER_NETWORK', 3_000, 1, 10_000_000),
      perBlock: int(env, 'NEW_IDS_PER_BLOCK', 10_000, 1, 10_000_000),
    }),
    honorGpc: bool(env, 'HONOR_GPC', true),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 600, 1, 10_000_000),
    requestTimeoutSeconds: int(env, 'REQUEST_TIMEOUT_SECONDS', 30, 1, 600),
    connectionTimeoutSeconds: int(env, 'CONNECTION_TIMEOUT_SECONDS', 10, 1, 600),
    adminRateLimitPerMinute: int(env, 'ADMIN_RATE_LIMIT_PER_MINUTE', 60, 1, 1_000_000),
    metricsPort,
    metricsToken,
    saltKey,
    readyzDetailsOpen:
      oneOf(env, 'READYZ_DETAILS', ['open', 'token'], production ? 'token' : 'open') === 'open',
    conversionLookbackDays,
    rollupKeysPerHour: int(env, 'ROLLUP_KEYS_PER_HOUR', DEFAULT_ROLLUP_KEYS_PER_HOUR, 1, 100_000),
    queuePartitions: int(env, 'QUEUE_PARTITIONS', DEFAULT_QUEUE_PARTITIONS, 1, 16_384),
    // Set but empty means "keep no query parameters".
    queryAllowlist: allowlist === undefined ? DEFAULT_QUERY_ALLOWLIST : list(allowlist),
    botFilter: parseBotFilter(env),
    debugRoutes: bool(env, 'DEBUG_ROUTES', false),
    demo,
  };
  return Object.freeze(config);
}
