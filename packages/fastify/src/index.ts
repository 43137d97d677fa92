/**
 * @devicelink/fastify: the Fastify 5 plugin (tiered device lookup, sessions, durable queue,
 * conversion) and its stores.
 *
 * @example
 * import devicelink, { corsOptions, createMemoryStores } from '@devicelink/fastify';
 * const { sessions, queue } = createMemoryStores();
 * await app.register(cors, corsOptions({ origin: ['https://shop.example'] }));
 * await app.register(devicelink, { sessions, queue });
 */
import { devicelink } from './devicelink-plugin.js';

export { type ClientDeviceIdOptions, clientDeviceId } from './client-device-id.js';
export type { CorsHeaderOptions, MergedCorsOptions } from './cors-options.js';
export { corsOptions, DEVICELINK_ALLOWED_HEADERS, DEVICELINK_EXPOSED_HEADERS } from './cors-options.js';
export { generateDeviceId } from './device-id-generator.js';
export type { TierInput, TierResult } from './device-id-tiers.js';
export type { Devicelink, TrackResult } from './devicelink-api.js';
export {
  DeviceLinkError,
  DeviceLinkOptionsError,
  DeviceLinkUsageError,
  isDeviceLinkError,
} from './errors.js';
export type {
  AliasRecord,
  EraseRecord,
  EraseUserRecord,
  EventQueue,
  LinkRecord,
  PageviewRecord,
  QueueEntry,
  QueueRecord,
} from './event-queue.js';
export type { CookieSameSite, DevicelinkOptions } from './plugin-options.js';
export type { PoisonEntry } from './queue/redis-event-queue.js';
export { hasBearerToken, headersDenyConsent } from './request-signals.js';
export type {
  ConvertResult,
  DeviceSource,
  LiveSession,
  QueuedPageview,
  SessionStore,
  TouchInput,
  TouchResult,
  UserEventsResult,
} from './session-store.js';
export type { MemoryStoreOptions, MemoryStores } from './stores/memory-session-store.js';
export { createMemoryStores } from './stores/memory-session-store.js';
export type { RedisStoreOptions, RedisStores } from './stores/redis-stores.js';
export { createRedisStores } from './stores/redis-stores.js';
export { QueueFullError, QueuePartitionsMismatchError } from './stores/store-errors.js';
export type { StoreOptions } from './stores/store-options.js';
export type { VisitorHasher, VisitorHashInput } from './visitor-hash.js';
export { createVisitorHasher, utcDay } from './visitor-hash.js';
export { devicelink };

export default devicelink;
