/**
 * The SDK's errors. Expected failures (a blocked fingerprint, an unreachable collector) are returned as
 * `{ error }` values carrying one of these, or handed to the `onError` option, never thrown at the app;
 * only a bad option to `createDeviceLink` throws (a programming error, found at start-up).
 */

/** Base class of every error the SDK creates; `cause` holds the underlying failure, if any. */
export class DeviceLinkError extends Error {
  override name = 'DeviceLinkError';
}

/** FingerprintJS could not be loaded or could not compute a visitor id. */
export class FingerprintError extends DeviceLinkError {
  override name = 'FingerprintError';
}

/** A call to the collector failed: network error (`status` 0) or a non-2xx answer. */
export class CollectorError extends DeviceLinkError {
  override name = 'CollectorError';
  /** HTTP status, or 0 when no answer arrived. */
  declare status: number;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/**
 * A batch of page views was given up: refused by the collector, or still failing after its last retry.
 * `cause` is the {@link CollectorError} of the last attempt.
 */
export class PageviewsDroppedError extends DeviceLinkError {
  override name = 'PageviewsDroppedError';
  /** How many page views were dropped. */
  declare count: number;
  constructor(count: number, cause: CollectorError) {
    super(`${count} page views dropped`, { cause });
    this.count = count;
  }
}

/**
 * True for errors made by this SDK. Checks `name`, because `instanceof` fails across realms
 * (iframes, two copies of the package).
 */
export function isDeviceLinkError(value: unknown): value is DeviceLinkError {
  return /^(DeviceLink|Fingerprint|Collector|PageviewsDropped)Error$/.test(
    (value as Error | null)?.name as string,
  );
}
