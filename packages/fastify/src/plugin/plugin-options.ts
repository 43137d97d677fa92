/**
 * The plugin's options and their validation at register: a bad option stops `register` with a
 * message naming it (as @fastify/jwt's `validateOptions` does).
 */
import { DEFAULT_QUERY_ALLOWLIST } from '@devicelink/protocol';
import type { FastifyRequest } from 'fastify';
import { DeviceLinkOptionsError } from '../errors.js';
import type { DeviceStore } from '../store/device-store.js';
import type { NewIdLimits } from '../store/rate-limits.js';
import { createTrafficClassifier, type TrafficClassifier } from './traffic-class.js';

/** `SameSite` of the `device_fp` cookie (`COOKIE_SAMESITE`). */
export type CookieSameSite = 'lax' | 'strict' | 'none';

/** Options of `app.register(devicelink, options)`. */
export interface DeviceLinkPluginOptions {
  /**
   * The store of live sessions and the queue (`createRedisStore` or `createMemoryStore`). Its queue
   * must be drained by a persister (`@devicelink/persister`) reading the same prefix and partition
   * count, or it grows until the store is full.
   */
  store: DeviceStore;
  /**
   * `device_fp` cookie flags. `sameSite: 'none'` and `partitioned` require `secure: true`. `domain`
   * (`COOKIE_DOMAIN`) shares the cookie with the app on a common parent domain; `partitioned`
   * (`COOKIE_PARTITIONED`, CHIPS) keeps it for a collector on another site. Defaults: `lax`, not
   * secure, host-only, not partitioned.
   */
  cookie?: CookieOptions;
  /** Treat `Sec-GPC: 1` as consent denied (`HONOR_GPC`). Default true. */
  honorGpc?: boolean;
  /**
   * Host apps: return true to count this request as a page view of its URL. Asked only on routes that
   * opt in (`config: { devicelink: true }`), after the reply (status below 400). Default: none.
   */
  trackRequests?: (request: FastifyRequest) => boolean;
  /**
   * The user id (JWT `sub`) of a valid bearer token, or null when there is none or it is invalid.
   * Default: `request.jwtVerify()` when @fastify/jwt is registered and a `Bearer` token is sent
   * (`sub` must be a string), else null. May answer at once (not a promise) when it knows without
   * waiting, e.g. no `Authorization` header: the plugin's hook then runs without a promise.
   */
  authenticate?: (request: FastifyRequest) => string | null | Promise<string | null>;
  /** The client address for `visitorHash`. Default `request.ip` (Fastify's `trustProxy` decides). */
  clientIp?: (request: FastifyRequest) => string;
  /**
   * Query parameters kept in the URLs `track()` queues and `trackRequests` counts (`QUERY_ALLOWLIST`);
   * every other one is dropped. Default: the five `utm_*` parameters.
   */
  queryAllowlist?: readonly string[];
  /**
   * Rate limits that `track()` (and `app.devicelink.limit()`) count in the store, in the same step as
   * the write: over one, nothing is counted and `track()` answers `{ tracked: false, reason: 'limited' }`
   * (the app answers 429; the plugin sets `Retry-After` and `x-ratelimit-*`). Default: none.
   */
  rateLimit?: RateLimitOptions;
  /**
   * Fingerprint joins (docs/protocol.md, Fingerprint joins): `secret` keys the hashes of fingerprints
   * and network prefixes (`RECOVERY_SECRET`: at least 32 characters, the same in every process on one
   * store, never stored beside the store's data). Absent or null: joins are off and fingerprint
   * evidence is not taken. Joining is re-identification: enable it only under the consent that covers
   * the fingerprint itself.
   */
  recovery?: { secret: string | Buffer } | null;
  /**
   * Bot and automation filtering (docs/protocol.md, Bots and automation). Every tracked page view is
   * classified `human`, `bot` or `automation` from its User-Agent (the `isbot` list plus headless and
   * scripted-client markers) and stored with its class; fingerprint evidence of a non-human device
   * makes no join and counts no cap. `allowlist`: user-agent substrings (case-insensitive) of the
   * operator's own monitors, counted as human (`BOT_ALLOWLIST`). `false`: nothing is classified, as
   * before (`BOT_FILTER=off`). Default: on, empty allowlist.
   */
  botFilter?: { allowlist?: readonly string[] } | false;
}

/** The `rateLimit` option. */
export interface RateLimitOptions {
  /** Requests per window of one client: per device id it sent (header or cookie), else per address. */
  max: number;
  /** Requests per window of one address, whatever device ids it sends. Default 10 × `max`; null: none. */
  addressMax?: number | null;
  /** Window length, ms. Default 60,000. */
  windowMs?: number;
  /**
   * Limits on new device ids of `track()` (a device the store knows neither by a session nor by an
   * identity record): per IPv4 address or IPv6 /64, per IPv4 /24 or IPv6 /48, per IPv6 /32, in a
   * window. Default {@link DEFAULT_NEW_ID_LIMITS}; null: none.
   */
  newIds?: Partial<NewIdLimits> | null;
}

/**
 * Default new-id limits: 1,000 per address (/64), 3,000 per /24 (/48) and 10,000 per /32 in 10
 * minutes. Far above what browsers behind one address start (each counts once per session it starts
 * without a fingerprint entry), far below a script minting ids.
 */
const DEFAULT_NEW_ID_LIMITS: Readonly<NewIdLimits> = Object.freeze({
  windowMs: 600_000,
  perAddress: 1_000,
  perNetwork: 3_000,
  perBlock: 10_000,
});

/** The `device_fp` cookie's flags. */
export interface CookieOptions {
  secure?: boolean;
  sameSite?: CookieSameSite;
  domain?: string;
  partitioned?: boolean;
}

/** Options after validation, defaults filled in. */
export interface ResolvedOptions {
  store: DeviceStore;
  cookie: { secure: boolean; sameSite: CookieSameSite; domain: string | undefined; partitioned: boolean };
  honorGpc: boolean;
  trackRequests: ((request: FastifyRequest) => boolean) | null;
  authenticate: ((request: FastifyRequest) => string | null | Promise<string | null>) | null;
  clientIp: (request: FastifyRequest) => string;
  queryAllowlist: readonly string[];
  rateLimit: { max: number; addressMax: number | null; windowMs: number; newIds: NewIdLimits | null } | null;
  recovery: { secret: string | Buffer } | null;
  /** Null when `botFilter: false`. */
  traffic: TrafficClassifier | null;
}

const STORE_METHODS = [
  'touch',
  'convert',
  'recordEdge',
  'replaceDevice',
  'noteMinted',
  'recordFingerprint',
  'withdrawRecovery',
  'queueUserEvents',
  'limit',
  'dailySalt',
] as const;

/** Shortest recovery secret: 32 characters (or bytes) keep the keyed hashes unguessable. */
const MIN_SECRET = 32;
const SAME_SITE: readonly CookieSameSite[] = ['lax', 'strict', 'none'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Validates `options` (untrusted: JavaScript callers skip the types) and fills in defaults. */
export function validateOptions(options: unknown): ResolvedOptions {
  if (!isObject(options)) {
    throw new DeviceLinkOptionsError('store', 'is required (pass { store })');
  }
  const o = options as Partial<Record<keyof DeviceLinkPluginOptions, unknown>>;
  requireMethods('store', o.store, STORE_METHODS, 'a DeviceStore');

  const cookie = validateCookie(o.cookie);

  if (o.honorGpc !== undefined && typeof o.honorGpc !== 'boolean') {
    throw new DeviceLinkOptionsError('honorGpc', 'must be a boolean');
  }
  for (const name of ['trackRequests', 'authenticate', 'clientIp'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') {
      throw new DeviceLinkOptionsError(name, 'must be a function');
    }
  }
  const queryAllowlist = validateQueryAllowlist(o.queryAllowlist);
  const rateLimit = o.rateLimit === undefined ? null : validateRateLimit(o.rateLimit);
  const recovery = validateRecovery(o.recovery);
  const clientIp = (o.clientIp as ResolvedOptions['clientIp'] | undefined) ?? ((request) => request.ip);
  const traffic = validateBotFilter(o.botFilter);
  return {
    store: o.store as DeviceStore,
    cookie,
    honorGpc: (o.honorGpc as boolean | undefined) ?? true,
    trackRequests: (o.trackRequests as ResolvedOptions['trackRequests'] | undefined) ?? null,
    authenticate: (o.authenticate as ResolvedOptions['authenticate'] | undefined) ?? null,
    clientIp,
    queryAllowlist,
    rateLimit,
    recovery,
    traffic,
  };
}

/** The `cookie` option, with its defaults. */
function validateCookie(value: unknown): ResolvedOptions['cookie'] {
  if (value === undefined) return { secure: false, sameSite: 'lax', domain: undefined, partitioned: false };
  if (!isObject(value)) throw new DeviceLinkOptionsError('cookie', 'must be an object');
  const { secure = false, sameSite = 'lax', domain, partitioned = false } = value;
  if (typeof secure !== 'boolean') throw new DeviceLinkOptionsError('cookie.secure', 'must be a boolean');
  if (typeof sameSite !== 'string' || !SAME_SITE.includes(sameSite as CookieSameSite)) {
    throw new DeviceLinkOptionsError('cookie.sameSite', `must be one of ${SAME_SITE.join(', ')}`);
  }
  // Browsers drop `SameSite=None` cookies without `Secure`: the device would get a new id each visit.
  if (sameSite === 'none' && !secure) {
    throw new DeviceLinkOptionsError('cookie.sameSite', '"none" requires cookie.secure: true');
  }
  if (domain !== undefined && (typeof domain !== 'string' || !/^\.?[A-Za-z0-9.-]+$/.test(domain))) {
    throw new DeviceLinkOptionsError('cookie.domain', 'must be a domain name such as example.com');
  }
  if (typeof partitioned !== 'boolean') {
    throw new DeviceLinkOptionsError('cookie.partitioned', 'must be a boolean');
  }
  // Browsers accept a Partitioned cookie only with Secure (CHIPS).
  if (partitioned && !secure) {
    throw new DeviceLinkOptionsError('cookie.partitioned', 'requires cookie.secure: true');
  }
  return { secure, sameSite: sameSite as CookieSameSite, domain, partitioned };
}

function validateQueryAllowlist(list: unknown): readonly string[] {
  if (list === undefined) return DEFAULT_QUERY_ALLOWLIST;
  if (!Array.isArray(list) || !list.every((name) => typeof name === 'string' && name !== '')) {
    throw new DeviceLinkOptionsError('queryAllowlist', 'must be an array of non-empty parameter names');
  }
  return Object.freeze([...(list as string[])]);
}

function validateRecovery(value: unknown): ResolvedOptions['recovery'] {
  if (value === undefined || value === null) return null;
  const secret = isObject(value) ? value.secret : undefined;
  const ok =
    (typeof secret === 'string' && secret.length >= MIN_SECRET) ||
    (Buffer.isBuffer(secret) && secret.length >= MIN_SECRET);
  if (!ok) {
    throw new DeviceLinkOptionsError(
      'recovery.secret',
      `must be a string or Buffer of at least ${MIN_SECRET}`,
    );
  }
  return { secret: secret as string | Buffer };
}

function validateBotFilter(value: unknown): TrafficClassifier | null {
  if (value === false) return null;
  if (value === undefined || value === null) return createTrafficClassifier();
  if (!isObject(value)) throw new DeviceLinkOptionsError('botFilter', 'must be an object or false');
  const { allowlist = [] } = value;
  if (!Array.isArray(allowlist) || !allowlist.every((e) => typeof e === 'string' && e.trim() !== '')) {
    throw new DeviceLinkOptionsError(
      'botFilter.allowlist',
      'must be an array of non-empty user-agent substrings',
    );
  }
  return createTrafficClassifier({ allowlist: allowlist.map((e: string) => e.trim()) });
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;

function validateRateLimit(value: unknown): ResolvedOptions['rateLimit'] {
  if (!isObject(value)) throw new DeviceLinkOptionsError('rateLimit', 'must be an object');
  const { max, addressMax, windowMs = 60_000, newIds } = value;
  if (!isCount(max)) throw new DeviceLinkOptionsError('rateLimit.max', 'must be a positive integer');
  if (addressMax !== undefined && addressMax !== null && !isCount(addressMax)) {
    throw new DeviceLinkOptionsError('rateLimit.addressMax', 'must be a positive integer or null');
  }
  if (!isCount(windowMs))
    throw new DeviceLinkOptionsError('rateLimit.windowMs', 'must be a positive integer');
  return {
    max,
    addressMax: addressMax === undefined ? 10 * max : addressMax,
    windowMs,
    newIds: validateNewIds(newIds),
  };
}

function validateNewIds(value: unknown): NewIdLimits | null {
  if (value === null) return null;
  if (value !== undefined && !isObject(value)) {
    throw new DeviceLinkOptionsError('rateLimit.newIds', 'must be an object or null');
  }
  const limits = { ...DEFAULT_NEW_ID_LIMITS, ...(value as Partial<NewIdLimits> | undefined) };
  for (const k of ['windowMs', 'perAddress', 'perNetwork', 'perBlock'] as const) {
    if (!isCount(limits[k]))
      throw new DeviceLinkOptionsError(`rateLimit.newIds.${k}`, 'must be a positive integer');
  }
  return limits;
}

function requireMethods(name: string, value: unknown, methods: readonly string[], what: string): void {
  if (!isObject(value)) throw new DeviceLinkOptionsError(name, `is required: ${what}`);
  const missing = methods.filter((m) => typeof value[m] !== 'function');
  if (missing.length > 0) {
    throw new DeviceLinkOptionsError(name, `must be ${what} (missing ${missing.join(', ')})`);
  }
}

/** @deprecated Renamed `DeviceLinkPluginOptions` (the SDK has a `DeviceLinkOptions` of its own); goes in 0.3. */
export type DeviceLinkOptions = DeviceLinkPluginOptions;
