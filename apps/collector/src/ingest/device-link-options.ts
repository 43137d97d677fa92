/**
 * The devicelink plugin's options from the collector's configuration: the store, the cookie, consent,
 * the ingest rate limits, fingerprint joins and the bot filter.
 */
import type { DeviceLinkPluginOptions } from '@devicelink/fastify';
import { authenticateWith, type TokenVerifier } from '../auth/token-verifier.js';
import type { CollectorConfig } from '../config/collector-config.js';
import type { CollectorResources } from '../runtime/collector-resources.js';

/** The per-address limit is this many times `RATE_LIMIT_PER_MINUTE` (one address, many devices). */
const ADDRESS_LIMIT_FACTOR = 10;

/** The devicelink options of a collector. */
export function deviceLinkOptions(
  config: CollectorConfig,
  resources: CollectorResources,
  verifier: TokenVerifier,
): DeviceLinkPluginOptions {
  return {
    store: resources.store,
    cookie: {
      secure: config.cookieSecure,
      sameSite: config.cookieSameSite,
      ...(config.cookieDomain ? { domain: config.cookieDomain } : {}),
      partitioned: config.cookiePartitioned,
    },
    honorGpc: config.honorGpc,
    queryAllowlist: config.queryAllowlist,
    authenticate: authenticateWith(verifier),
    // Counted by the store in the same step as the page views (one round trip): per device id, or
    // per address without one; the looser per-address limit bounds a client that sends a fresh
    // random device id each request (every device behind one NAT shares it, hence the factor).
    rateLimit: {
      max: config.rateLimitPerMinute,
      addressMax: ADDRESS_LIMIT_FACTOR * config.rateLimitPerMinute,
      windowMs: 60_000,
      // New ids per network (NEW_IDS_*), counted in the same step, only for a device the store
      // does not know: one network cannot fill Redis with fresh ids.
      newIds: {
        windowMs: config.newIdLimits.windowSeconds * 1000,
        perAddress: config.newIdLimits.perAddress,
        perNetwork: config.newIdLimits.perNetwork,
        perBlock: config.newIdLimits.perBlock,
      },
    },
    recovery: resources.recoverySecret ? { secret: resources.recoverySecret } : null,
    botFilter: config.botFilter.enabled ? { allowlist: config.botFilter.allowlist } : false,
  };
}

/** The start-up log line that says whether fingerprint joins are on, and why not. */
export function fingerprintJoinsLine(config: CollectorConfig, resources: CollectorResources): string {
  if (resources.recoverySecret) return `fingerprint joins on (RECOVERY_DAYS=${config.recovery.days})`;
  return config.recovery.enabled
    ? 'fingerprint joins off: RECOVERY_SECRET is not set (every collector on this store needs the same one)'
    : 'fingerprint joins off (RECOVERY=off)';
}
