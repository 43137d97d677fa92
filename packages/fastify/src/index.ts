/**
 * @devicelink/fastify: the Fastify 5 plugin (tiered device lookup, sessions, durable queue,
 * conversion) and its stores. A persister (`@devicelink/persister`) with the same prefix and partition
 * count must drain the store's queue.
 *
 * @example
 * import devicelink, { corsOptions, createRedisStore } from '@devicelink/fastify';
 * const store = await createRedisStore(redis, { prefix: 'dl:', partitions: 64 });
 * await app.register(cors, corsOptions({ origin: ['https://shop.example'] }));
 * await app.register(devicelink, { store });
 */
import { devicelink } from './plugin/device-link-plugin.js';

// The queue contract (in the protocol, below this package and the persister): named here so a host app
// can type the store it passes to `createPersister` without a second package; `DeviceSource` types
// `request.deviceSource`.
export type { DeviceSource, PartitionLeases, QueueConsumer } from '@devicelink/protocol';
export {
  DeviceLinkError,
  DeviceLinkOptionsError,
  DeviceLinkPluginError,
  DeviceLinkUsageError,
  isDeviceLinkError,
  isDeviceLinkPluginError,
} from './errors.js';
export type { MemoryStore, MemoryStoreOptions } from './memory/memory-store.js';
export { createMemoryStore } from './memory/memory-store.js';
export { type ClientDeviceIdOptions, clientDeviceId } from './plugin/client-device-id.js';
export type { CorsHeaderOptions, MergedCorsOptions } from './plugin/cors-options.js';
export {
  corsOptions,
  DEVICELINK_ALLOWED_HEADERS,
  DEVICELINK_EXPOSED_HEADERS,
} from './plugin/cors-options.js';
export type { DeviceLink, DeviceLinkApi } from './plugin/device-link-api.js';
export type { TrackResult } from './plugin/device-tracking.js';
export type { EvidenceResult } from './plugin/fingerprint-evidence.js';
export type {
  CookieOptions,
  CookieSameSite,
  DeviceLinkOptions,
  DeviceLinkPluginOptions,
  RateLimitOptions,
} from './plugin/plugin-options.js';
export { setRateLimitHeaders } from './plugin/rate-limit-headers.js';
export { headersDenyConsent } from './plugin/request-signals.js';
export type { Classification, TrafficClassifier, TrafficClassifierOptions } from './plugin/traffic-class.js';
export { classifyUserAgent, createTrafficClassifier } from './plugin/traffic-class.js';
export type { PoisonEntry } from './redis/redis-queue.js';
export type { RedisStore, RedisStoreOptions } from './redis/redis-store.js';
export { createRedisStore } from './redis/redis-store.js';
export type { DeviceAdmin } from './store/device-admin.js';
export type {
  ConvertResult,
  CookieEdge,
  DeviceStore,
  FingerprintInput,
  FingerprintResult,
  Limited,
  LimitResult,
  LimitState,
  LiveSession,
  QueuedPageview,
  RateLimits,
  ReplaceInput,
  ReplaceResult,
  TouchInput,
  TouchResult,
  UserEventsResult,
} from './store/device-store.js';
export type { NewIdLimits } from './store/rate-limits.js';
export { QueueFullError, QueuePartitionsMismatchError } from './store/store-errors.js';
export type { StoreOptions } from './store/store-options.js';
export { devicelink };

export default devicelink;
