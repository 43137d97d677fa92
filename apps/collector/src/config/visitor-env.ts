/**
 * The visitors' variables of the collector's schema (see `env-schema.ts`): the device cookie, the
 * fingerprint joins and their caps, bots and the fleet job, query parameters, sessions and rate limits.
 */
import { DEFAULT_FLEET_OPTIONS } from '@devicelink/persister';
import {
  DEFAULT_QUERY_ALLOWLIST,
  DEFAULT_SESSION_IDLE_SECONDS,
  DEFAULT_SESSION_MAX_SECONDS,
} from '@devicelink/protocol';
import { type EnvVar, MANY, ON_OFF, TOKEN } from './env-var.js';

const WEEK_MINUTES = 10_080;

/** Browser clients, identity (joins and bots) and sessions, in order. */
export const VISITOR_ENV = {
  CORS_ORIGINS: {
    group: 'browser',
    type: 'list',
    unset: 'no CORS headers',
    essential: true,
    form: 'origins, comma-separated',
    doc: 'exact origins of your app; `*` is refused; other origins get 403 on `/v1/events`',
  },
  COOKIE_SECURE: {
    group: 'browser',
    type: 'boolean',
    default: false,
    productionDefault: true,
    doc: '`Secure` flag of the `device_fp` cookie',
  },
  COOKIE_SAMESITE: {
    group: 'browser',
    type: 'choice',
    allowed: ['lax', 'strict', 'none'],
    default: 'lax',
    doc: '`SameSite` of `device_fp`; `none` requires `COOKIE_SECURE=true`',
  },
  COOKIE_DOMAIN: {
    group: 'browser',
    type: 'text',
    unset: 'host-only',
    pattern: '^\\.?(?:[A-Za-z0-9-]+\\.)*[A-Za-z0-9-]+$',
    problem: (v) => `must be a domain name such as example.com, got "${v}"`,
    form: 'domain name',
    doc: '`Domain` of `device_fp`: a parent domain the collector shares with the app (`shop.example` for `collect.shop.example` and `www.shop.example`)',
  },
  COOKIE_PARTITIONED: {
    group: 'browser',
    type: 'boolean',
    default: false,
    doc: '`Partitioned` (CHIPS) for a collector on another site than the app; requires `COOKIE_SAMESITE=none` and `COOKIE_SECURE=true`',
  },
  RECOVERY: {
    group: 'identity',
    ...ON_OFF,
    doc: '`off` turns fingerprint joins off: evidence is answered as always and nothing is kept',
  },
  RECOVERY_SECRET: {
    group: 'identity',
    ...TOKEN,
    unset: 'joins off (embedded: one made in `DATA_DIR`)',
    essential: true,
    doc: 'keys the hashes of fingerprints and networks, the same on every collector of one store; never stored beside the hashes',
  },
  RECOVERY_DAYS: {
    group: 'identity',
    type: 'integer',
    min: 1,
    max: 3650,
    default: 30,
    doc: 'fingerprint entries, joins and tombstones expire this many days after their device was last seen',
  },
  RECOVERY_NETWORK_DAILY_CAP: {
    group: 'identity',
    type: 'integer',
    min: 1,
    max: MANY,
    default: 100,
    doc: 'new fingerprint entries per IPv4 /24 or IPv6 /48 per UTC day',
  },
  RECOVERY_BLOCK_DAILY_PERCENT: {
    group: 'identity',
    type: 'integer',
    min: 1,
    max: 100,
    default: 10,
    doc: 'percent of `RECOVERY_DAILY_CAP` one IPv4 /16 or IPv6 /32 may take per UTC day',
  },
  RECOVERY_DAILY_CAP: {
    group: 'identity',
    type: 'integer',
    min: 1,
    max: 1_000_000_000,
    default: 50_000,
    doc: 'new fingerprint entries per UTC day in all; existing entries are never evicted',
  },
  HONOR_GPC: {
    group: 'identity',
    type: 'boolean',
    default: true,
    doc: 'treat `Sec-GPC: 1` as consent denied',
  },
  QUERY_ALLOWLIST: {
    group: 'identity',
    type: 'list',
    default: DEFAULT_QUERY_ALLOWLIST,
    keepEmpty: true,
    form: 'names, comma-separated',
    doc: 'query parameters kept in stored URLs; set but empty keeps none',
  },
  BOT_FILTER: {
    group: 'identity',
    ...ON_OFF,
    essential: true,
    doc: 'page views are classified (`human`, `bot`, `automation`), figures count people only and non-human devices make no join (see [Bots and automation](#bots-and-automation)); `off`: nothing is classified',
  },
  BOT_ALLOWLIST: {
    group: 'identity',
    type: 'list',
    default: [],
    essential: true,
    itemMinLength: 3,
    // A one- or two-letter substring would let nearly every crawler back in.
    itemProblem: (entry) => `entries must be at least 3 characters, got "${entry}"`,
    form: 'substrings of 3+ characters, comma-separated',
    doc: 'user-agent substrings (case-insensitive) of your own monitors, counted as human',
  },
  FLEET_WINDOW_MINUTES: {
    group: 'identity',
    type: 'integer',
    min: 1,
    max: WEEK_MINUTES,
    default: DEFAULT_FLEET_OPTIONS.windowMinutes,
    doc: "the fleet job's window (see [Bots and automation](#bots-and-automation))",
  },
  FLEET_MIN_IDS: {
    group: 'identity',
    type: 'integer',
    min: 2,
    max: MANY,
    default: DEFAULT_FLEET_OPTIONS.minIds,
    doc: 'one-hit fresh ids one network must make in the window to be a fleet',
  },
  FLEET_MIN_SHARE_PERCENT: {
    group: 'identity',
    type: 'integer',
    min: 1,
    max: 100,
    default: DEFAULT_FLEET_OPTIONS.minSharePercent,
    doc: "share of the network's sessions in the window that must be such ids",
  },
  FLEET_QUIET_MINUTES: {
    group: 'identity',
    type: 'integer',
    min: 1,
    max: WEEK_MINUTES,
    default: DEFAULT_FLEET_OPTIONS.quietMinutes,
    doc: 'how long an id must have been silent before it is judged',
  },
  SESSION_IDLE_SECONDS: {
    group: 'sessions',
    type: 'integer',
    min: 1,
    max: 31_536_000,
    default: DEFAULT_SESSION_IDLE_SECONDS,
    doc: 'sliding idle timeout of a live session',
  },
  SESSION_MAX_SECONDS: {
    group: 'sessions',
    type: 'integer',
    min: 1,
    max: 31_536_000,
    default: DEFAULT_SESSION_MAX_SECONDS,
    doc: 'maximum age of a live session (not shorter than the idle timeout)',
  },
  RATE_LIMIT_PER_MINUTE: {
    group: 'sessions',
    type: 'integer',
    min: 1,
    max: MANY,
    default: 600,
    doc: 'requests per device id, else per hashed client address, plus 10× this per hashed address; shared via Redis',
  },
} as const satisfies Record<string, EnvVar>;
