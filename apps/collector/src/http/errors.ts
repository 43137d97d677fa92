/**
 * Every HTTP error the collector answers with, from @fastify/error: Fastify's shape
 * `{"statusCode","code","error","message"}` with codes prefixed `DL_`.
 */
import type { BodyError } from '@devicelink/protocol';
import createError from '@fastify/error';

/** Body larger than 64 KiB. */
export const BodyTooLargeError = createError('DL_BODY_TOO_LARGE', 'body is larger than %s bytes', 413);
/** Content type other than JSON or text/plain. */
export const UnsupportedMediaTypeError = createError(
  'DL_UNSUPPORTED_MEDIA_TYPE',
  'content type %s is not accepted; send application/json or text/plain',
  415,
);
/** Request parameters, query or body shape refused by the route's schema. */
export const InvalidRequestError = createError('DL_INVALID_REQUEST', '%s', 400);
/** Body is not JSON (or empty). */
export const InvalidBodyError = createError('DL_INVALID_BODY', '%s', 400);
/** Cross-origin request from an origin not in `CORS_ORIGINS`. */
export const OriginRefusedError = createError('DL_ORIGIN_REFUSED', 'origin %s is not allowed', 403);
/** Missing, invalid or expired bearer token on /v1/identify. */
export const TokenMissingError = createError('DL_TOKEN_MISSING', 'send Authorization: Bearer <JWT>', 401);
export const TokenInvalidError = createError('DL_TOKEN_INVALID', 'token refused: %s', 401);
export const TokenExpiredError = createError('DL_TOKEN_EXPIRED', 'the token has expired', 401);
/** `/metrics` with `METRICS_TOKEN` set: wrong or missing token. */
export const MetricsUnauthorizedError = createError(
  'DL_METRICS_UNAUTHORIZED',
  'send Authorization: Bearer <METRICS_TOKEN>',
  401,
);
/** Admin routes: wrong or missing `ADMIN_TOKEN`. */
export const AdminUnauthorizedError = createError(
  'DL_ADMIN_UNAUTHORIZED',
  'send Authorization: Bearer <ADMIN_TOKEN>',
  401,
);
/** Admin-only routes (erasure, the audit log) with the read-only `DASHBOARD_TOKEN`. */
export const ReadOnlyTokenError = createError(
  'DL_READ_ONLY_TOKEN',
  'the dashboard token is read-only; this route needs ADMIN_TOKEN',
  403,
);
/** Read routes: a query parameter out of its bounds (range too long, unknown time zone, bad cursor). */
export const InvalidQueryError = createError('DL_INVALID_QUERY', '%s', 400);
export const InvalidDeviceIdError = createError(
  'DL_INVALID_DEVICE_ID',
  'device id must be 16 to 64 characters of [A-Za-z0-9_-]',
  400,
);
export const InvalidUserIdError = createError(
  'DL_INVALID_USER_ID',
  'user id must be 1 to 256 characters without control, line-separator or bidi-control characters',
  400,
);
/** `GET /v1/admin/devices/:deviceId` for a device neither Postgres nor the store knows. */
export const DeviceNotFoundError = createError(
  'DL_DEVICE_NOT_FOUND',
  'no device with this id is known (nothing persisted, no live session)',
  404,
);
/** A path parameter longer than the router takes. */
export const PathTooLongError = createError('DL_PATH_TOO_LONG', 'a path parameter is too long', 414);
/** `from` / `to` of the stats route missing, not ISO-8601 UTC, or not in order. */
export const InvalidStatsRangeError = createError('DL_INVALID_STATS_RANGE', '%s', 400);
/** Demo login with unknown user or password. */
export const DemoLoginError = createError('DL_DEMO_LOGIN_FAILED', 'unknown demo user or wrong password', 401);
/** Postgres is down for a route that reads it (admin); ingest never answers this. */
const DatabaseUnavailableError = createError('DL_DATABASE_UNAVAILABLE', 'the database is unavailable', 503);

/**
 * The answer for a failed database read: the error's text (table names, SQL, values) stays out of the
 * answer and goes to the log as the error's `cause`.
 */
export function databaseUnavailable(cause: unknown): Error {
  return Object.assign(new DatabaseUnavailableError(), { cause });
}
/** The store (Redis) could not take the events: nothing was accepted. */
export const StoreUnavailableError = createError(
  'DL_STORE_UNAVAILABLE',
  'the event store is unavailable',
  503,
);
export const RateLimitedError = createError('DL_RATE_LIMITED', '%s', 429);
export const NotFoundError = createError('DL_NOT_FOUND', 'route %s not found', 404);
export const InternalError = createError('DL_INTERNAL', 'internal error', 500);

const BODY_ERRORS: Record<BodyError['code'], createError.FastifyErrorConstructor> = {
  DL_INVALID_BODY: InvalidBodyError,
  DL_NO_EVENTS: createError('DL_NO_EVENTS', '%s', 400),
  DL_TOO_MANY_EVENTS: createError('DL_TOO_MANY_EVENTS', '%s', 400),
  DL_INVALID_EVENT: createError('DL_INVALID_EVENT', '%s', 400),
  DL_EVENT_TYPE_REFUSED: createError('DL_EVENT_TYPE_REFUSED', '%s', 400),
  DL_INVALID_URL: createError('DL_INVALID_URL', '%s', 400),
};

/** The HTTP error for a body the protocol parser refused. */
export function bodyError(error: BodyError): Error {
  return new BODY_ERRORS[error.code](error.message);
}
