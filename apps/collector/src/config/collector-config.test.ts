import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './collector-config.js';

const PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const TOKEN = 'a'.repeat(32);

function refused(env: Record<string, string>, variable: string): void {
  let error: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).variable).toBe(variable);
  expect((error as Error).message).toContain(variable);
}

describe('loadConfig', () => {
  it('gives the contract defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.redis).toBeNull();
    expect(c.databaseUrl).toBeNull();
    expect(c.dataDir).toMatch(/\.devicelink$/);
    expect(c.persister).toBe(true);
    expect(c.sessionIdleSeconds).toBe(1800);
    expect(c.sessionMaxSeconds).toBe(86_400);
    expect(c.cookieSameSite).toBe('lax');
    expect(c.cookieSecure).toBe(false);
    expect(c.honorGpc).toBe(true);
    expect(c.rateLimitPerMinute).toBe(600);
    expect(c.conversionLookbackDays).toBe(30);
    expect(c.queuePartitions).toBe(64);
    expect(c.queryAllowlist).toContain('utm_source');
    expect(c.trustProxy).toBe(false);
    expect(c.cookieDomain).toBeNull();
    expect(c.cookiePartitioned).toBe(false);
    expect(c.recovery).toEqual({ enabled: true, secret: null, days: 30 });
    expect(c.recoveryCaps).toEqual({ networkDaily: 100, blockDailyPercent: 10, daily: 50_000 });
    expect(c.newIdLimits).toEqual({
      windowSeconds: 600,
      perAddress: 1_000,
      perNetwork: 3_000,
      perBlock: 10_000,
    });
    expect(c.adminRateLimitPerMinute).toBe(600);
    expect(c.metricsPort).toBeNull();
    expect(c.metricsToken).toBeNull();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads the metrics port and token and the admin rate limit', () => {
    const c = loadConfig({ METRICS_PORT: '9464', METRICS_TOKEN: TOKEN, ADMIN_RATE_LIMIT_PER_MINUTE: '5' });
    expect(c.metricsPort).toBe(9464);
    expect(c.metricsToken).toBe(TOKEN);
    expect(c.adminRateLimitPerMinute).toBe(5);
  });

  it.each([
    ['a short METRICS_TOKEN', { METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    ['METRICS_PORT equal to PORT', { PORT: '9000', METRICS_PORT: '9000' }, 'METRICS_PORT'],
    ['a METRICS_PORT that is no port', { METRICS_PORT: '70000' }, 'METRICS_PORT'],
    ['a METRICS_PORT that is no number', { METRICS_PORT: 'metrics' }, 'METRICS_PORT'],
    [
      'an ADMIN_RATE_LIMIT_PER_MINUTE of 0',
      { ADMIN_RATE_LIMIT_PER_MINUTE: '0' },
      'ADMIN_RATE_LIMIT_PER_MINUTE',
    ],
  ])('refuses %s, naming it', (_name, env, variable) => refused(env, variable));

  it('reads the recovery and cookie scope variables and refuses bad values naming them', () => {
    const secret = 's'.repeat(32);
    expect(loadConfig({ RECOVERY_SECRET: secret, RECOVERY_DAYS: '7' }).recovery).toEqual({
      enabled: true,
      secret,
      days: 7,
    });
    // Off: no secret is kept, so nothing can hash evidence.
    expect(loadConfig({ RECOVERY: 'off', RECOVERY_SECRET: secret }).recovery).toEqual({
      enabled: false,
      secret: null,
      days: 30,
    });
    refused({ RECOVERY: 'maybe' }, 'RECOVERY');
    refused({ RECOVERY_SECRET: 'short' }, 'RECOVERY_SECRET');
    refused({ RECOVERY_DAYS: '0' }, 'RECOVERY_DAYS');
    const crossSite = { COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'true', COOKIE_PARTITIONED: 'true' };
    expect(loadConfig(crossSite).cookiePartitioned).toBe(true);
    refused({ COOKIE_PARTITIONED: 'true' }, 'COOKIE_PARTITIONED');
    refused({ COOKIE_SECURE: 'true', COOKIE_PARTITIONED: 'true' }, 'COOKIE_PARTITIONED');
    expect(loadConfig({ COOKIE_DOMAIN: '.shop.example' }).cookieDomain).toBe('.shop.example');
    refused({ COOKIE_DOMAIN: 'shop.example; Path=/x' }, 'COOKIE_DOMAIN');
  });

  it('makes cookies Secure by default in production', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).cookieSecure).toBe(true);
  });

  it('refuses Redis without DATABASE_URL', () => refused({ REDIS_URL: 'redis://x:6379' }, 'REDIS_URL'));

  it('refuses a Redis Cluster without DATABASE_URL', () =>
    refused({ REDIS_CLUSTER_NODES: 'a:7000,b:7001' }, 'REDIS_CLUSTER_NODES'));

  it('refuses REDIS_URL together with REDIS_CLUSTER_NODES', () =>
    refused({ REDIS_URL: 'redis://x', REDIS_CLUSTER_NODES: 'a:1', DATABASE_URL: PG }, 'REDIS_URL'));

  it('parses cluster seeds', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, h:7001', DATABASE_URL: PG });
    expect(c.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: 'h', port: 7001 },
      ],
    });
  });

  it('refuses two JWT keys', () =>
    refused({ JWT_SECRET: 's', JWT_JWKS_URL: 'https://x/jwks' }, 'JWT_SECRET'));

  it('refuses DEMO with a JWT key', () => refused({ DEMO: '1', JWT_SECRET: 's' }, 'DEMO'));

  it('refuses DEMO in production', () => refused({ DEMO: '1', NODE_ENV: 'production' }, 'DEMO'));

  it('refuses DEBUG_ROUTES in production: its session route is an oracle', () => {
    refused({ DEBUG_ROUTES: 'true', NODE_ENV: 'production' }, 'DEBUG_ROUTES');
    expect(loadConfig({ DEBUG_ROUTES: 'true' }).debugRoutes).toBe(true);
  });

  it('reads the caps of new fingerprint entries and the limits on new ids', () => {
    const c = loadConfig({
      RECOVERY_NETWORK_DAILY_CAP: '5',
      RECOVERY_BLOCK_DAILY_PERCENT: '25',
      RECOVERY_DAILY_CAP: '40',
      NEW_IDS_WINDOW_SECONDS: '60',
      NEW_IDS_PER_ADDRESS: '10',
      NEW_IDS_PER_NETWORK: '20',
      NEW_IDS_PER_BLOCK: '30',
    });
    expect(c.recoveryCaps).toEqual({ networkDaily: 5, blockDailyPercent: 25, daily: 40 });
    expect(c.newIdLimits).toEqual({ windowSeconds: 60, perAddress: 10, perNetwork: 20, perBlock: 30 });
  });

  it.each([
    ['RECOVERY_BLOCK_DAILY_PERCENT', '0'],
    ['RECOVERY_BLOCK_DAILY_PERCENT', '101'],
    ['RECOVERY_NETWORK_DAILY_CAP', 'many'],
    ['RECOVERY_DAILY_CAP', '0'],
    ['NEW_IDS_PER_ADDRESS', '0'],
    ['NEW_IDS_PER_NETWORK', '-1'],
    ['NEW_IDS_PER_BLOCK', '1.5'],
    ['NEW_IDS_WINDOW_SECONDS', '86401'],
  ])('refuses %s=%s', (name, value) => refused({ [name]: value }, name));

  it('refuses an ADMIN_TOKEN shorter than 32 characters', () =>
    refused({ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'));

  it('accepts a 32-character ADMIN_TOKEN', () => {
    expect(loadConfig({ ADMIN_TOKEN: TOKEN }).adminToken).toBe(TOKEN);
  });

  it('refuses a DASHBOARD_TOKEN shorter than 32 characters, or equal to ADMIN_TOKEN', () => {
    refused({ DASHBOARD_TOKEN: 'short' }, 'DASHBOARD_TOKEN');
    refused({ DASHBOARD_TOKEN: TOKEN, ADMIN_TOKEN: TOKEN }, 'DASHBOARD_TOKEN');
    expect(loadConfig({ DASHBOARD_TOKEN: TOKEN }).dashboardToken).toBe(TOKEN);
  });

  it('keeps everything without RETENTION_DAYS and refuses one below CONVERSION_LOOKBACK_DAYS', () => {
    expect(loadConfig({}).retentionDays).toBeNull();
    expect(loadConfig({ RETENTION_DAYS: '30' }).retentionDays).toBe(30);
    refused({ RETENTION_DAYS: '29' }, 'RETENTION_DAYS');
    refused({ RETENTION_DAYS: '60', CONVERSION_LOOKBACK_DAYS: '90' }, 'RETENTION_DAYS');
    refused({ RETENTION_DAYS: 'a year' }, 'RETENTION_DAYS');
    refused({ RETENTION_DAYS: '0' }, 'RETENTION_DAYS');
  });

  it('refuses CORS_ORIGINS=*', () => refused({ CORS_ORIGINS: '*' }, 'CORS_ORIGINS'));

  it('refuses a CORS origin with a path', () =>
    refused({ CORS_ORIGINS: 'https://a.test/x' }, 'CORS_ORIGINS'));

  it('parses an exact CORS origin list', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.test, http://b.test:3000' }).corsOrigins).toEqual([
      'https://a.test',
      'http://b.test:3000',
    ]);
  });

  it('refuses COOKIE_SAMESITE=none without Secure', () =>
    refused({ COOKIE_SAMESITE: 'none' }, 'COOKIE_SAMESITE'));

  it('accepts COOKIE_SAMESITE=none with COOKIE_SECURE=true', () => {
    expect(loadConfig({ COOKIE_SAMESITE: 'none', COOKIE_SECURE: 'true' }).cookieSameSite).toBe('none');
  });

  for (const name of [
    'SESSION_IDLE_SECONDS',
    'SESSION_MAX_SECONDS',
    'CONVERSION_LOOKBACK_DAYS',
    'RATE_LIMIT_PER_MINUTE',
    'REQUEST_TIMEOUT_SECONDS',
    'CONNECTION_TIMEOUT_SECONDS',
    'QUEUE_PARTITIONS',
    'PERSISTER_LEASE_SECONDS',
    'PORT',
  ]) {
    it(`refuses a non-numeric ${name}`, () => refused({ [name]: '30m' }, name));
  }

  it('refuses a session max shorter than the idle timeout', () =>
    refused({ SESSION_IDLE_SECONDS: '100', SESSION_MAX_SECONDS: '50' }, 'SESSION_MAX_SECONDS'));

  it('reads the persister lease time, 10 s by default, and refuses 0', () => {
    expect(loadConfig({}).persisterLeaseSeconds).toBe(10);
    expect(loadConfig({ PERSISTER_LEASE_SECONDS: '2' }).persisterLeaseSeconds).toBe(2);
    refused({ PERSISTER_LEASE_SECONDS: '0' }, 'PERSISTER_LEASE_SECONDS');
  });

  it('refuses a bad TRUST_PROXY', () => refused({ TRUST_PROXY: 'yes please' }, 'TRUST_PROXY'));

  it('refuses a TRUST_PROXY hop count, which Fastify would silently not trust, naming the variable', () =>
    refused({ TRUST_PROXY: '1' }, 'TRUST_PROXY'));

  it('parses TRUST_PROXY as an address or CIDR list', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).trustProxy).toEqual(['10.0.0.0/8', '::1']);
  });

  it('refuses a bad boolean', () => refused({ HONOR_GPC: 'maybe' }, 'HONOR_GPC'));

  it('refuses a bad PERSISTER', () => refused({ PERSISTER: 'sometimes' }, 'PERSISTER'));

  it('refuses a DATABASE_URL that is not Postgres', () =>
    refused({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'));

  it('refuses a JWT_PUBLIC_KEY that is not a PEM key', () =>
    refused({ JWT_PUBLIC_KEY: 'hello' }, 'JWT_PUBLIC_KEY'));

  it('chooses the algorithm by the public key type', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect(loadConfig({ JWT_PUBLIC_KEY: String(rsa) }).jwt).toMatchObject({ algorithm: 'RS256' });
    // One-line environments carry "\n" literally.
    expect(loadConfig({ JWT_PUBLIC_KEY: String(ec).replace(/\n/g, '\\n') }).jwt).toMatchObject({
      algorithm: 'ES256',
    });
  });

  it('keeps no query parameters when QUERY_ALLOWLIST is set but empty', () => {
    expect(loadConfig({ QUERY_ALLOWLIST: '' }).queryAllowlist).toEqual([]);
    expect(loadConfig({ QUERY_ALLOWLIST: 'ref, utm_source' }).queryAllowlist).toEqual(['ref', 'utm_source']);
  });
});

describe('.env.example', () => {
  const text = readFileSync(new URL('../../../../.env.example', import.meta.url), 'utf8');
  const lines = text.split('\n').slice(0, -1);
  const variables = lines.filter((l) => !l.startsWith('#') && l !== '');

  it('is comments, blank lines and NAME=value lines, with no stray space', () => {
    expect(text.endsWith('\n')).toBe(true);
    for (const line of lines) {
      expect(line, JSON.stringify(line)).toMatch(/^(|# \S.*|# -+ .+ -+|[A-Z][A-Z0-9_]*=\S*)$/);
      expect(line, JSON.stringify(line)).not.toMatch(/\s$|\S {2,}\S/);
    }
  });

  it('names every variable the configuration reads, and no other', () => {
    const read = new Set<string>();
    loadConfig(
      new Proxy({} as Record<string, string>, {
        get: (_t, name) => {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      }),
    );
    expect(variables.map((l) => l.split('=')[0]).sort()).toEqual([...read].sort());
  });

  it('gives the defaults: loaded as it is, it is the configuration of an empty environment', () => {
    const env = Object.fromEntries(variables.map((l) => [l.split('=')[0]!, l.slice(l.indexOf('=') + 1)]));
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });
});
