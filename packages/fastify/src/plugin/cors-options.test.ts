import { describe, expect, it } from 'vitest';
import { corsOptions } from './cors-options.js';

describe('corsOptions', () => {
  it('adds the device headers, exposes the echo and turns credentials on', () => {
    expect(corsOptions({ allowedHeaders: ['Content-Type'] })).toEqual({
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: [
        'Content-Type',
        'X-Device-Fingerprint',
        'X-Device-Consent',
        'X-Device-Fresh',
        'X-Device-Replaces',
      ],
      exposedHeaders: ['X-Device-Fingerprint'],
      credentials: true,
    });
  });

  it('keeps the app’s own options and accepts comma-separated string forms', () => {
    const origin = ['https://a.example'];
    const merged = corsOptions({
      origin,
      maxAge: 600,
      allowedHeaders: 'Content-Type, Authorization',
      exposedHeaders: 'X-Request-Id',
    });
    expect(merged).toEqual({
      origin,
      maxAge: 600,
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: [
        'Content-Type',
        'Authorization',
        'X-Device-Fingerprint',
        'X-Device-Consent',
        'X-Device-Fresh',
        'X-Device-Replaces',
      ],
      exposedHeaders: ['X-Request-Id', 'X-Device-Fingerprint'],
      credentials: true,
    });
  });

  it('adds no duplicate when the app already lists a device header in another case', () => {
    const merged = corsOptions({
      allowedHeaders: ['x-device-fingerprint'],
      exposedHeaders: ['X-DEVICE-FINGERPRINT'],
    });
    expect(merged.allowedHeaders).toEqual([
      'x-device-fingerprint',
      'X-Device-Consent',
      'X-Device-Fresh',
      'X-Device-Replaces',
    ]);
    expect(merged.exposedHeaders).toEqual(['X-DEVICE-FINGERPRINT']);
  });

  it('leaves allowedHeaders unset when the app set none, so @fastify/cors keeps reflecting the request', () => {
    expect(corsOptions()).toEqual({
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      exposedHeaders: ['X-Device-Fingerprint'],
      credentials: true,
    });
    expect('allowedHeaders' in corsOptions({ origin: true })).toBe(false);
  });

  it("adds DELETE to the app's own methods once, whatever their case or form", () => {
    expect(corsOptions({ methods: 'get, PUT' }).methods).toEqual(['get', 'PUT', 'HEAD', 'POST', 'DELETE']);
    expect(corsOptions({ methods: ['delete', 'PATCH'] }).methods).toEqual([
      'delete',
      'PATCH',
      'GET',
      'HEAD',
      'POST',
    ]);
  });

  it('does not change the object it was given', () => {
    const app = { allowedHeaders: ['A'], credentials: false };
    corsOptions(app);
    expect(app).toEqual({ allowedHeaders: ['A'], credentials: false });
  });
});
