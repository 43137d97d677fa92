/**
 * Shared pieces of the route schemas that make the OpenAPI document (`/docs/json`): the error shape,
 * the error answers a route lists status by status, and the device header and cookie. The HTTP API is
 * described in docs/protocol.md; the conformance test (test/openapi-conformance.test.ts) checks the
 * server's answers against the document these build.
 */
import { DEVICE_COOKIE, DEVICE_HEADER } from '@devicelink/protocol';

/** Fastify's error shape with a `DL_` code (every error answer of the collector). */
const errorSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', pattern: '^DL_[A-Z_]+$' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
  required: ['statusCode', 'code', 'error', 'message'],
  additionalProperties: false,
} as const;

/** What each error status means, for the document. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request was refused: `DL_INVALID_*` says what is wrong.',
  401: 'Missing or wrong bearer token.',
  403:
    'Refused: an origin not in `CORS_ORIGINS` (`DL_ORIGIN_REFUSED`), or the read-only `DASHBOARD_TOKEN` ' +
    'on an admin-only route (`DL_READ_ONLY_TOKEN`).',
  404: 'Not found.',
  413: 'Body larger than 64 KiB (`DL_BODY_TOO_LARGE`).',
  414: 'A path parameter is too long (`DL_PATH_TOO_LONG`).',
  415: 'Content type not accepted (`DL_UNSUPPORTED_MEDIA_TYPE`).',
  429: 'Rate limit exceeded (`DL_RATE_LIMITED`); `Retry-After` says when to retry, in seconds.',
  503: 'Redis or Postgres is unreachable (`DL_STORE_UNAVAILABLE`, `DL_DATABASE_UNAVAILABLE`); retrying is safe.',
};

/**
 * The error answers of a route, one entry per status (no `4xx` ranges: the document lists exactly what
 * the route answers).
 *
 * @example
 * response: { 200: okSchema, ...errorResponses(400, 401, 503) }
 */
export function errorResponses(...statuses: number[]): Record<number, object> {
  const out: Record<number, object> = {};
  for (const status of statuses) {
    out[status] = { ...errorSchema, description: ERROR_DESCRIPTIONS[status] ?? 'Error.' };
  }
  return out;
}

/** The device id header a tracking route reads (docs/protocol.md, Device id). */
export const deviceHeaders = {
  type: 'object',
  properties: {
    [DEVICE_HEADER.toLowerCase()]: {
      type: 'string',
      description:
        'The device id the SDK keeps (16 to 64 characters of `[A-Za-z0-9_-]`); an invalid value counts as absent.',
    },
    'x-device-consent': {
      type: 'string',
      description: '`denied` (any case): no device work, no session; a sent `device_fp` cookie is cleared.',
    },
    'x-device-fresh': {
      type: 'string',
      description:
        "`1` while the SDK's minted id has not been answered yet: it yields to a different valid `device_fp` " +
        'cookie, whose id the answer echoes.',
    },
    'x-device-replaces': {
      type: 'string',
      description:
        'The id a `reset()`, `forget()` or re-grant replaced, sent with the new (not fresh) id: the `device_fp` ' +
        'cookie moves to the new id, with no edge, only when this equals the cookie, the content type is not ' +
        '`text/plain` or a form type and the new id was never seen (docs/protocol.md, Replacement marker).',
    },
  },
} as const;

/** The device cookie, documented only (Fastify validates no cookies). */
export const deviceCookies = {
  type: 'object',
  properties: {
    [DEVICE_COOKIE]: {
      type: 'string',
      description:
        'The device id cookie the collector sets (HttpOnly, 400 days); read when no header is sent.',
    },
  },
} as const;

/** Security requirement of the admin routes (`components.securitySchemes.adminToken`). */
export const adminSecurity = [{ adminToken: [] }];

/**
 * Security requirement of the read routes (insights, journeys, exports, the device detail): the
 * configured ones of `components.securitySchemes.adminToken` and `dashboardToken`, either one.
 */
export function readSecurity(tokens: {
  adminToken: string | null;
  dashboardToken: string | null;
}): Array<Record<string, string[]>> {
  return [
    ...(tokens.adminToken !== null ? [{ adminToken: [] }] : []),
    ...(tokens.dashboardToken !== null ? [{ dashboardToken: [] }] : []),
  ];
}
