import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { requestLogRedaction } from './request-log.js';

const request = (url: string, pattern?: string) =>
  ({
    method: 'GET',
    url,
    routeOptions: pattern === undefined ? {} : { url: pattern },
  }) as unknown as FastifyRequest;

describe('requestLogRedaction', () => {
  const redaction = requestLogRedaction();
  for (const route of [
    '/v1/admin/users/:userId',
    '/v1/admin/devices/:deviceId',
    '/v1/device/cookie',
    '/dashboard/*',
  ]) {
    redaction.learnRoute(route);
  }

  it('logs a matched route by its pattern, never its parameters or query', () => {
    expect(
      redaction.serializer(request('/v1/admin/users/alice@example.com?x=1', '/v1/admin/users/:userId')),
    ).toEqual({
      method: 'GET',
      url: '/v1/admin/users/:userId',
    });
    expect(redaction.serializer(request('/dashboard/assets/app.js', '/dashboard/*')).url).toBe(
      '/dashboard/*',
    );
  });

  it('logs a path that matched no route with every segment that is not a route word hashed', () => {
    const device = 'Xk3a9Qw7Lp0Zr5Tn2Bv8';
    const logged = redaction.serializer(request(`/v1/admin/devices/${device}/typo?token=secret`)).url;
    expect(logged).toMatch(/^\/v1\/admin\/devices\/~[0-9a-f]{8}\/~[0-9a-f]{8}$/);
    expect(logged).not.toContain(device);
    expect(logged).not.toContain('secret');
    // The same segment hashes the same within the process (requests for one path can be followed).
    expect(redaction.serializer(request(`/v1/device/${device}`)).url).toBe(
      `/v1/device/${logged.split('/')[4]}`,
    );
    expect(redaction.serializer(request('/favicon.ico')).url).toBe('/favicon.ico');
  });
});
