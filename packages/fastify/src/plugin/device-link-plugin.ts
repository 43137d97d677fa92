/**
 * The Fastify plugin (docs/protocol.md, Tiered lookup): lazy `request.deviceId`, the response
 * headers and cookie, consent, bearer tokens, edges and `trackRequests`.
 */

import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { DeviceSource } from '../store/device-store.js';
import { kDeviceState, resolveDevice } from './device-context.js';
import { requestHook, responseHook, sendHook } from './device-hooks.js';
import { createDeviceLink, type DeviceLinkApi } from './device-link-api.js';
import { type DeviceLinkPluginOptions, validateOptions } from './plugin-options.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The request's device id, looked up on first read (at most once per request): the client's
     * `X-Device-Fingerprint` header or body `deviceId`, the `device_fp` cookie, or a new server id.
     * Null when no device work applies: a route without `config: { devicelink: true }`, OPTIONS or
     * HEAD, a valid bearer token, consent denied.
     */
    readonly deviceId: string | null;
    /** The tier that gave `deviceId`, or null with it. */
    readonly deviceSource: DeviceSource | null;
  }
  interface FastifyInstance {
    /** Tracking, conversion and the store of @devicelink/fastify. */
    devicelink: DeviceLinkApi;
  }
  interface FastifyContextConfig {
    /** Opt this route in to device work (tracking routes only; never health, metrics or admin). */
    devicelink?: boolean;
  }
}

async function plugin(fastify: FastifyInstance, rawOptions: DeviceLinkPluginOptions): Promise<void> {
  const options = validateOptions(rawOptions);
  // One cookie plugin per app: an app that registered its own (with its own secret or parse hook)
  // keeps it; register it before devicelink.
  if (!fastify.hasDecorator('parseCookie')) await fastify.register(fastifyCookie);

  const { api: devicelink, trackAnswered } = createDeviceLink(options);
  fastify.decorate('devicelink', devicelink);
  fastify.decorateRequest(kDeviceState, null);
  fastify.decorateRequest('deviceId', {
    getter(this: FastifyRequest) {
      return resolveDevice(this)?.deviceId ?? null;
    },
  });
  fastify.decorateRequest('deviceSource', {
    getter(this: FastifyRequest) {
      return resolveDevice(this)?.source ?? null;
    },
  });

  const onRequest = requestHook(options);
  const onSend = sendHook(options, devicelink);
  const { trackRequests } = options;
  const onResponse = trackRequests ? responseHook(options, trackAnswered, trackRequests) : null;
  // The hooks go on opted-in routes only, so the rest of a host app (health checks, metrics, admin)
  // runs no devicelink code at all. fastify-plugin puts this onRoute hook in the registering context,
  // so routes of child plugins registered after devicelink get the hooks too. Ours go first, where a
  // global hook would have run, so the route's own hooks can read `request.deviceId`.
  fastify.addHook('onRoute', (route) => {
    if (route.config?.devicelink !== true) return;
    route.onRequest = [onRequest, ...hookList(route.onRequest)] as typeof route.onRequest;
    route.onSend = [onSend, ...hookList(route.onSend)] as typeof route.onSend;
    if (onResponse) route.onResponse = [onResponse, ...hookList(route.onResponse)] as typeof route.onResponse;
  });
}

/** A route option's hooks as an array (Fastify takes one function or an array). */
function hookList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined || hooks === null) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * The devicelink plugin. Register once per app with a store; opt tracking routes in with
 * `config: { devicelink: true }`. A persister (`@devicelink/persister`) must drain the store's queue.
 *
 * @example
 * const store = await createRedisStore(redis, { prefix: 'dl:', partitions: 64 });
 * await app.register(devicelink, { store, cookie: { sameSite: 'lax' } });
 * app.get('/products', { config: { devicelink: true } }, async (request) => ({ device: request.deviceId }));
 */
export const devicelink = fp(plugin, { name: '@devicelink/fastify', fastify: '5.x' });
