/**
 * Errors the plugin throws at its user (the developer), never at a client: bad options at register
 * and misuse of the API. Client input that is wrong is data (an absent id), not an exception.
 */

// A registry symbol, the same in every copy of the package and every realm of the process.
const BRAND = Symbol.for('@devicelink/fastify.error');

/** Base class of every error this package throws. Check with {@link isDeviceLinkPluginError}. */
export class DeviceLinkPluginError extends Error {
  override name = 'DeviceLinkPluginError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** A plugin option is missing or wrong; the message names the option. */
export class DeviceLinkOptionsError extends DeviceLinkPluginError {
  override name = 'DeviceLinkOptionsError';

  constructor(
    /** The option's path, e.g. `cookie.sameSite`. */
    readonly option: string,
    message: string,
  ) {
    super(`@devicelink/fastify: option "${option}" ${message}`);
  }
}

/** An API call got an argument it cannot use (e.g. an invalid device id passed to `convert`). */
export class DeviceLinkUsageError extends DeviceLinkPluginError {
  override name = 'DeviceLinkUsageError';
}

// 'DeviceLinkError': the base class's name before 0.2, for an older copy of the package beside this one.
const NAMES = new Set([
  'DeviceLinkPluginError',
  'DeviceLinkError',
  'DeviceLinkOptionsError',
  'DeviceLinkUsageError',
]);

/**
 * True for errors of this package, including subclasses defined beside the stores. Checks the name
 * or a registry-symbol brand, because `instanceof` fails when two copies of the package (or two
 * realms) are loaded.
 */
export function isDeviceLinkPluginError(error: unknown): error is DeviceLinkPluginError {
  if (typeof error !== 'object' || error === null) return false;
  return (
    (error as { [BRAND]?: unknown })[BRAND] === true ||
    NAMES.has((error as { name?: unknown }).name as string)
  );
}

/**
 * @deprecated Renamed `DeviceLinkPluginError` (the SDK has a `DeviceLinkError` of its own); goes in 0.3.
 * @alias
 */
export const DeviceLinkError = DeviceLinkPluginError;
/** @deprecated Renamed `DeviceLinkPluginError`; goes in 0.3. */
export type DeviceLinkError = DeviceLinkPluginError;
/**
 * @deprecated Renamed `isDeviceLinkPluginError`; goes in 0.3.
 * @alias
 */
export const isDeviceLinkError = isDeviceLinkPluginError;
