import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './collector-config.js';
import { COLLECTOR_ENV } from './env-schema.js';

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
    expect(c.adminRateLimitPerMinute).toBe(60);
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

  it('reads SALT_KEY as 64 hex digits or base64, refuses anything else without echoing it, and requires it with Redis in production', () => {
    const key = Buffer.alloc(32, 9);
    expect(loadConfig({ SALT_KEY: key.toString('hex') }).saltKey?.equals(key)).toBe(true);
    expect(loadConfig({ SALT_KEY: key.toString('base64') }).saltKey?.equals(key)).toBe(true);
    expect(loadConfig({ SALT_KEY: key.toString('base64url') }).saltKey?.equals(key)).toBe(true);
    expect(loadConfig({}).saltKey).toBeNull();
    for (const bad of [
      'short',
      'z'.repeat(64),
      key.subarray(0, 31).toString('base64'),
      `${key.toString('hex')}00`,
    ]) {
      refused({ SALT_KEY: bad }, 'SALT_KEY');
      expect(() => loadConfig({ SALT_KEY: bad })).toThrow(
        /must be 32 bytes written as 64 hex digits or base64/,
      );
      try {
        loadConfig({ SALT_KEY: bad });
      } catch (err) {
        expect((err as Error).message).not.toContain(bad);
      }
    }
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: PG };
    refused({ NODE_ENV: 'production', ...redis }, 'SALT_KEY');
    expect(() => loadConfig({ NODE_ENV: 'production', ...redis })).toThrow(/openssl rand -base64 32/);
    expect(
      loadConfig({ NODE_ENV: 'production', ...redis, SALT_KEY: key.toString('hex') }).saltKey,
    ).not.toBeNull();
    // Embedded (no Redis) and outside production it is not required.
    expect(loadConfig({ NODE_ENV: 'production' }).saltKey).toBeNull();
    expect(loadConfig(redis).saltKey).toBeNull();
  });

  it('closes the /readyz details in production unless READYZ_DETAILS=open, and reads ROLLUP_KEYS_PER_HOUR', () => {
    expect(loadConfig({}).readyzDetailsOpen).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).readyzDetailsOpen).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', READYZ_DETAILS: 'open' }).readyzDetailsOpen).toBe(true);
    expect(loadConfig({ READYZ_DETAILS: 'token' }).readyzDetailsOpen).toBe(false);
    refused({ READYZ_DETAILS: 'yes' }, 'READYZ_DETAILS');
    expect(loadConfig({}).rollupKeysPerHour).toBe(100);
    expect(loadConfig({ ROLLUP_KEYS_PER_HOUR: '25' }).rollupKeysPerHour).toBe(25);
    refused({ ROLLUP_KEYS_PER_HOUR: '0' }, 'ROLLUP_KEYS_PER_HOUR');
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

describe('loadConfig by the schema', () => {
  it.each(['1e3', '0x10', '+5', '1.0', '8O80'])(
    'refuses PORT=%s: whole numbers are written in digits only',
    (value) => {
      expect(() => loadConfig({ PORT: value })).toThrow(`PORT must be a whole number, got "${value}"`);
    },
  );

  it('reads every integer variable the same way: digits in range, else one line naming it', () => {
    for (const [name, spec] of Object.entries(COLLECTOR_ENV)) {
      if (spec.type !== 'integer') continue;
      expect(() => loadConfig({ [name]: 'many' }), name).toThrow(
        `${name} must be a whole number, got "many"`,
      );
      expect(() => loadConfig({ [name]: String(spec.max + 1) }), name).toThrow(
        `${name} must be between ${spec.min} and ${spec.max}, got ${spec.max + 1}`,
      );
    }
  });

  it('takes switches and choices in any case, and names the words a wrong one may be', () => {
    const c = loadConfig({
      PERSISTER: 'OFF',
      LOG_LEVEL: 'Debug',
      COOKIE_SAMESITE: 'Strict',
      HONOR_GPC: 'No',
    });
    expect([c.persister, c.logLevel, c.cookieSameSite, c.honorGpc]).toEqual([
      false,
      'debug',
      'strict',
      false,
    ]);
    expect(() => loadConfig({ BOT_FILTER: 'maybe' })).toThrow(
      'BOT_FILTER must be "on" or "off", got "maybe"',
    );
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "verbose"',
    );
  });

  it.each(['0.0.0.0', '::', '::1', 'localhost', 'collector.internal', 'fe80::1%eth0'])(
    'accepts HOST=%s',
    (host) => {
      expect(loadConfig({ HOST: host }).host).toBe(host);
    },
  );

  it.each(['http://0.0.0.0', 'localhost:8080', '0.0.0.0/0', 'a host', '[::1]'])(
    'refuses HOST=%s, naming it, before anything listens',
    (host) => {
      refused({ HOST: host }, 'HOST');
      expect(() => loadConfig({ HOST: host })).toThrow(/without scheme or port/);
    },
  );

  it('never echoes a secret in its error', () => {
    const marker = 'hunter2-hunter2';
    for (const [name, spec] of Object.entries(COLLECTOR_ENV)) {
      if (!('secret' in spec)) continue;
      let message = '';
      try {
        loadConfig({ [name]: `${marker}://x` });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, name).not.toContain(marker);
    }
  });

  it('reads only the variables of the schema, each declared with a meaning', () => {
    for (const [name, spec] of Object.entries(COLLECTOR_ENV)) {
      expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(spec.doc.length, name).toBeGreaterThan(10);
      expect(spec.doc, name).not.toContain('\n\n');
    }
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
