/**
 * `@devicelink/sdk`: a stable device id, page views and identify for the browser. Importing it does
 * nothing; everything starts with {@link createDeviceLink}. Axios glue lives in `@devicelink/sdk/axios`.
 */
export type { Consent } from './consent.js';
export type {
  DeviceIdSource,
  DeviceLink,
  DeviceLinkOptions,
  IdentifyResult,
  ResetResult,
} from './device-link.js';
export { createDeviceLink } from './device-link.js';
export {
  CollectorError,
  DeviceLinkError,
  FingerprintError,
  isDeviceLinkError,
  PageviewsDroppedError,
} from './errors.js';
export type { BatchOptions } from './pageview-queue.js';
