/**
 * The routes the SDK calls about its own device (docs/protocol.md, HTTP API):
 * - `POST /v1/device/fingerprint`: the fingerprint evidence of a minted id (once per id), 202 with one
 *   body whatever became of it, answered no sooner than a fixed time (the answer is no oracle);
 * - `DELETE /v1/device/cookie`: clears `device_fp` (the SDK's `reset()`), 204;
 * - `DELETE /v1/device/recovery`: consent withdrawn: the fingerprint entries and edges of the calling
 *   ids go and `device_fp` is cleared (a later grant starts a new id, never the withdrawn one), 204;
 * - `DELETE /v1/device`: erases the calling device (the SDK's `forget()`), 204.
 * The calling device is named by its own header id and cookie, never by a parameter: these routes can
 * reach no other device. Withdrawal and erasure are honoured whatever consent the request states.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceAdmin, EvidenceResult } from '@devicelink/fastify';
import { AUTOMATION_SIGNALS, DEVICE_COOKIE, isValidDeviceId } from '@devicelink/protocol';
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoreUnavailableError } from '../http/errors.js';
import { STORE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import { countLimit } from '../http/rate-limited.js';
import { deviceCookies, deviceHeaders, errorResponses } from '../http/route-schemas.js';

/** Options of {@link deviceRoutes}. */
export interface DeviceRoutesOptions {
  /** The store's erasure (the same path as the admin device erasure). */
  store: DeviceAdmin;
}

/**
 * The one answer to evidence, whatever became of it (registered, joined, shared, capped, ...): an
 * answer that told them apart would tell anyone who knows a visitorId whether that browser visited
 * from this network (docs/protocol.md, Threat model). The SDK reads only the status code.
 */
const RECEIVED = { status: 'received' } as const;

/**
 * The evidence answer leaves no sooner than this after the handler started: registering and joining
 * take different store work (3 to 8 calls), and its timing would tell them apart as the body would.
 * Above the slowest decision on a healthy store; the evidence is sent once per minted id, off the
 * page's critical path.
 */
export const EVIDENCE_ANSWER_FLOOR_MS = 100;

/**
 * Longest visitorId, UTF-16 code units (the plugin's `fingerprint()` limit). The body schema's
 * `maxLength` counts code points, so a visitorId of 4-byte characters can pass it and still be longer.
 */
const MAX_VISITOR_ID = 128;

/** The rate-limit counter group of each route. */
const ROUTE_GROUPS: Record<string, string> = {
  '/v1/device/fingerprint': 'fingerprint',
  '/v1/device/cookie': 'cookie',
  '/v1/device/recovery': 'recovery',
  '/v1/device': 'forget',
};

const done = { 204: { type: 'null', description: 'Done.' } };

/** The evidence: the visitorId, and what the SDK knows of the id it was minted for. */
const fingerprintBodySchema = {
  type: 'object',
  properties: {
    visitorId: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_VISITOR_ID,
      description: `1 to ${MAX_VISITOR_ID} characters (code points).`,
    },
    deviceId: { type: 'string', maxLength: 256 },
    fresh: { type: 'boolean' },
    consent: { type: 'string', maxLength: 64 },
    automation: {
      type: 'array',
      maxItems: AUTOMATION_SIGNALS.length,
      items: { type: 'string', maxLength: 32 },
      description:
        "The page's automation signals (the SDK's automation chunk): any known one refuses the evidence.",
    },
  },
  required: ['visitorId'],
  additionalProperties: false,
} as const;

/** The valid ids the request names as its own: the header id and the cookie's, without repeats. */
function callerDeviceIds(request: FastifyRequest): string[] {
  const header = request.headers['x-device-fingerprint'];
  const ids = [Array.isArray(header) ? header[0] : header, request.cookies?.[DEVICE_COOKIE]];
  return [...new Set(ids.filter((id): id is string => isValidDeviceId(id)))];
}

/** Runs `work` for each calling id; a store failure is a 503 (retrying is safe: every step is idempotent). */
async function forEachCaller(
  request: FastifyRequest,
  work: (deviceId: string) => Promise<void>,
): Promise<void> {
  try {
    for (const id of callerDeviceIds(request)) await within(work(id), STORE_TIMEOUT_MS);
  } catch (err) {
    request.log.error({ err }, 'device route: the store failed');
    throw new StoreUnavailableError();
  }
}

/** Registers the device routes. */
export async function deviceRoutes(app: FastifyInstance, options: DeviceRoutesOptions): Promise<void> {
  // The plugin's limits, counted by the store before any other work, one client counter per route (as
  // @fastify/rate-limit kept them); the per-address counter (the events route's too) on the fingerprint
  // route only, as before. This plugin's scope holds these routes alone.
  app.addHook('onRequest', async (request, reply) => {
    const group = ROUTE_GROUPS[request.routeOptions.url ?? ''];
    if (group && request.method !== 'OPTIONS') {
      await countLimit(app, request, reply, group, group === 'fingerprint');
    }
  });

  fingerprintRoute(app);
  cookieRoute(app);
  recoveryRoute(app);
  forgetRoute(app, options.store);
}

/** `POST /v1/device/fingerprint`: the fingerprint evidence of a minted id. */
function fingerprintRoute(app: FastifyInstance): void {
  app.post(
    '/v1/device/fingerprint',
    {
      config: { devicelink: true },
      schema: {
        description:
          'The FingerprintJS visitorId of a minted device id, sent once: kept only as a keyed hash, it may ' +
          'join the id to one earlier device on the same network (revocable; never answered with its id).',
        body: fingerprintBodySchema,
        headers: deviceHeaders,
        cookies: deviceCookies,
        response: {
          202: {
            type: 'object',
            description:
              'Received: the same answer whatever became of the evidence (registered, joined, shared, capped, ' +
              "not taken), so it tells nothing about anyone's browser; never another device's id.",
            properties: { status: { type: 'string', enum: [RECEIVED.status] } },
            required: ['status'],
            additionalProperties: false,
          },
          ...errorResponses(400, 413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const started = performance.now();
      // The body schema requires the visitorId (1 to 128 code points, as the plugin counts them too).
      const { visitorId, automation } = request.body as { visitorId: string; automation?: string[] };
      let result: EvidenceResult;
      try {
        result = await within(app.devicelink.fingerprint(request, visitorId, automation), STORE_TIMEOUT_MS);
      } catch (err) {
        request.log.error({ err }, 'recording fingerprint evidence failed');
        throw new StoreUnavailableError();
      }
      // For the operator's log only, never for the client.
      request.log.debug({ evidence: result.status }, 'fingerprint evidence');
      const wait = EVIDENCE_ANSWER_FLOOR_MS - (performance.now() - started);
      if (wait > 0) await sleep(wait);
      return reply.code(202).send(RECEIVED);
    },
  );
}

/** `DELETE /v1/device/cookie`: clears the cookie. */
function cookieRoute(app: FastifyInstance): void {
  app.delete(
    '/v1/device/cookie',
    {
      schema: {
        description: 'Clears the device_fp cookie (the SDK reset() on logout).',
        cookies: deviceCookies,
        response: { ...done, ...errorResponses(429) },
      },
    },
    async (_request, reply) => {
      app.devicelink.clearCookie(reply);
      return reply.code(204).send();
    },
  );
}

/** `DELETE /v1/device/recovery`: consent withdrawn. */
function recoveryRoute(app: FastifyInstance): void {
  app.delete(
    '/v1/device/recovery',
    {
      schema: {
        description:
          'Consent withdrawn: deletes the fingerprint entries of the calling device (header id and cookie) ' +
          'at both ends of any join, and every edge naming it, and clears the device_fp cookie.',
        headers: deviceHeaders,
        cookies: deviceCookies,
        response: { ...done, ...errorResponses(429, 503) },
      },
    },
    async (request, reply) => {
      await forEachCaller(request, (id) => app.devicelink.store.withdrawRecovery(id));
      // The cookie would otherwise go on naming the withdrawn device for 400 days, and be adopted again.
      app.devicelink.clearCookie(reply);
      return reply.code(204).send();
    },
  );
}

/** `DELETE /v1/device`: erases the calling device. */
function forgetRoute(app: FastifyInstance, store: DeviceAdmin): void {
  app.delete(
    '/v1/device',
    {
      schema: {
        description:
          'Erases the calling device (its header id and cookie, nothing else) everywhere, as the admin ' +
          'device erasure does, and clears the cookie (the SDK forget()).',
        headers: deviceHeaders,
        cookies: deviceCookies,
        response: { ...done, ...errorResponses(429, 503) },
      },
    },
    async (request, reply) => {
      await forEachCaller(request, (id) => store.erase(id));
      app.devicelink.clearCookie(reply);
      return reply.code(204).send();
    },
  );
}
