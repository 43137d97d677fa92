/**
 * `POST /v1/identify` (docs/protocol.md, Conversion): a verified bearer token links the device the
 * client names (header, else cookie; a fresh header id yields to the cookie; never a server-made id) to
 * the token's `sub`. Counts no page view and never makes a fingerprint join (it takes no evidence and
 * touches no identity record); the same device and user again adds no link.
 */
import { clientDeviceId, headersDenyConsent } from '@devicelink/fastify';
import { DEVICE_COOKIE } from '@devicelink/protocol';
import type {} from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { StoreUnavailableError } from '../http/errors.js';
import { STORE_TIMEOUT_MS, within } from '../http/promise-deadline.js';
import { countLimit } from '../http/rate-limited.js';
import { deviceCookies, deviceHeaders, errorResponses } from '../http/route-schemas.js';

/** Options of {@link identifyRoute}. */
export interface IdentifyRouteOptions {
  verifier: TokenVerifier;
  /** `HONOR_GPC`: `Sec-GPC: 1` denies consent like `X-Device-Consent: denied`. */
  honorGpc: boolean;
  /** Called when a link was appended (metrics). */
  onConverted?: () => void;
}

/** Registers the identify route. */
export async function identifyRoute(app: FastifyInstance, options: IdentifyRouteOptions): Promise<void> {
  app.post(
    '/v1/identify',
    {
      schema: {
        description:
          'Links the caller device (header, else cookie) to the `sub` of the bearer token (a JWT). No body.',
        security: [{ userToken: [] }],
        headers: deviceHeaders,
        cookies: deviceCookies,
        response: {
          200: {
            type: 'object',
            properties: {
              userId: { type: 'string' },
              deviceId: { type: ['string', 'null'] },
              sessionId: { type: ['string', 'null'] },
            },
            required: ['userId', 'deviceId', 'sessionId'],
            additionalProperties: false,
          },
          ...errorResponses(400, 401, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      // Before the token is verified: a refused request costs one store round trip, no verification.
      await countLimit(app, request, reply, 'identify');
      const userId = await options.verifier.verify(request);
      // Consent denied means no device work (contract): nothing linked, and a sent cookie is cleared.
      if (headersDenyConsent(request.headers, options.honorGpc)) {
        // With the flags it was set with (domain, partitioned), or the browser keeps it.
        if (request.cookies?.[DEVICE_COOKIE] !== undefined) app.devicelink.clearCookie(reply);
        return { userId, deviceId: null, sessionId: null };
      }
      // A new id after a reset (X-Device-Replaces): the cookie moves to it before the link makes it
      // known (docs/protocol.md, Replacement marker). A store failure leaves the cookie.
      await within(app.devicelink.replaceCookie(request, reply), STORE_TIMEOUT_MS).catch(() => false);
      const deviceId = clientDeviceId(request, { honorGpc: options.honorGpc });
      if (deviceId === null) return { userId, deviceId: null, sessionId: null };
      let result: Awaited<ReturnType<typeof app.devicelink.convert>>;
      try {
        result = await within(app.devicelink.convert(deviceId, userId), STORE_TIMEOUT_MS);
      } catch (err) {
        // Logged by the error handler, once per cause and interval (Redis away fails every request).
        throw new StoreUnavailableError({ cause: err });
      }
      if (result.status === 'linked') options.onConverted?.();
      return { userId, deviceId, sessionId: result.sessionId };
    },
  );
}
