export { isValidDeviceId, toDeviceId } from './device-id.js';
export type {
  BodyError,
  EventsBody,
  PageviewEvent,
  PageviewInput,
  ParseOptions,
  ParseResult,
} from './events.js';
export {
  CLIENT_EVENT_TYPES,
  INTERNAL_RECORD_TYPES,
  MAX_BODY_BYTES,
  MAX_EVENT_TS,
  MAX_EVENTS_PER_REQUEST,
  POISONED_BODY_MESSAGE,
  parseEventsBody,
  parseJsonText,
} from './events.js';
export {
  CONSENT_DENIED,
  CONSENT_GRANTED,
  CONSENT_HEADER,
  DEFAULT_QUEUE_PARTITIONS,
  DEFAULT_SESSION_IDLE_SECONDS,
  DEFAULT_SESSION_MAX_SECONDS,
  DEVICE_COOKIE,
  DEVICE_COOKIE_MAX_AGE,
  DEVICE_HEADER,
  EVENT_DEDUPE_SECONDS,
  FRESH_HEADER,
  isConsentDenied,
  REPLACES_HEADER,
  STORAGE_KEY,
  TOMBSTONE_SECONDS,
} from './names.js';
export { fnv1a32, partitionOf } from './partition.js';
export { isLeaseLostError, LeaseLostError } from './queue/lease-lost-error.js';
export type { LeaseMember, PartitionLeases } from './queue/partition-leases.js';
export type { AckOptions, QueueConsumer, ReadOptions, TakeOverResult } from './queue/queue-consumer.js';
export type {
  BoundaryRecord,
  DeviceSource,
  EdgeKind,
  EdgeRecord,
  EraseRecord,
  EraseUserRecord,
  ForgetEdgesRecord,
  LinkRecord,
  PageviewRecord,
  QueueEntry,
  QueueRecord,
  UnjoinRecord,
} from './queue/queue-records.js';
export type { Normalisation, OnNormalised } from './text-normalisation.js';
export {
  cutText,
  MAX_QUERY_VALUE_LENGTH,
  MAX_USER_AGENT_LENGTH,
  storedUserAgent,
} from './text-normalisation.js';
export type { AutomationSignal, TrafficClass } from './traffic-class.js';
export {
  AUTOMATION_SIGNALS,
  isTrafficClass,
  MAX_TRAFFIC_REASON,
  TRAFFIC_CLASSES,
} from './traffic-class.js';
export {
  DEFAULT_QUERY_ALLOWLIST,
  MAX_HOST_LENGTH,
  MAX_URL_LENGTH,
  referrerOrigin,
  sanitizeUrl,
  storedPageUrl,
  storedReferrer,
} from './url-rules.js';
export { isConstantUuid, isUuid, uuidV7Time, uuidv7 } from './uuid-v7.js';
