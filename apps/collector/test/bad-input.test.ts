import { uuidv7 } from '@devicelink/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deviceId, eventsBody, useCollector } from './support/collector.js';

describe('bad input to the collector', () => {
  const ctx = useCollector('badinput', { RATE_LIMIT_PER_MINUTE: '1000000' });

  const post = (payload: string, contentType = 'application/json') =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': contentType }, payload });

  async function refused(payload: string, status: number, code: string, contentType?: string) {
    const res = await post(payload, contentType);
    expect(res.statusCode).toBe(status);
    const body = res.json();
    expect(body.code).toBe(code);
    expect(body).toMatchObject({
      statusCode: status,
      error: expect.any(String),
      message: expect.any(String),
    });
  }

  it('refuses malformed JSON with 400 DL_INVALID_BODY', () =>
    refused('{"events": [', 400, 'DL_INVALID_BODY'));

  it('refuses malformed JSON in a text/plain beacon with 400 DL_INVALID_BODY', () =>
    refused('{"events": [', 400, 'DL_INVALID_BODY', 'text/plain'));

  it('refuses an empty body with 400', () => refused('', 400, 'DL_INVALID_BODY'));

  it('refuses a 65 KiB body with 413 DL_BODY_TOO_LARGE', () =>
    refused(JSON.stringify({ pad: 'x'.repeat(65 * 1024), ...eventsBody(1) }), 413, 'DL_BODY_TOO_LARGE'));

  it('refuses a 65 KiB text/plain beacon with 413 DL_BODY_TOO_LARGE', () =>
    refused(
      JSON.stringify({ pad: 'x'.repeat(65 * 1024), ...eventsBody(1) }),
      413,
      'DL_BODY_TOO_LARGE',
      'text/plain',
    ));

  it('refuses 101 events with 400 DL_TOO_MANY_EVENTS', () =>
    refused(JSON.stringify(eventsBody(101)), 400, 'DL_TOO_MANY_EVENTS'));

  it('refuses no events with 400 DL_NO_EVENTS', () =>
    refused(JSON.stringify({ events: [] }), 400, 'DL_NO_EVENTS'));

  /** The value of `devicelink_normalised_fields_total` for `field` and `reason` on /metrics. */
  async function normalised(field: string, reason: string): Promise<number> {
    const text = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`devicelink_normalised_fields_total{field="${field}",reason="${reason}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  async function keptAndCounted(url: string, userAgent = 'Mozilla/5.0 (bad input) Firefox/128.0') {
    const before = await normalised('url', 'too_long');
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        'content-type': 'application/json',
        'x-device-fingerprint': deviceId(),
        'user-agent': userAgent,
      },
      payload: JSON.stringify({ events: [{ type: 'pageview', url }] }),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 1, tracked: true });
    expect(await normalised('url', 'too_long')).toBe(before + 1);
  }

  it('keeps a 10,000-character URL (it was refused with DL_URL_TOO_LONG), cut at its limit and counted', () =>
    keptAndCounted(`https://shop.test/${'a'.repeat(10_000)}`));

  it('keeps a URL within 2,048 characters but longer once percent-encoded, cut and counted (it was a 503, then a 400)', () =>
    keptAndCounted(`https://shop.test/${'\u{1f600}'.repeat(700)}`));

  it('counts a user agent over 512 characters and a lone surrogate in a kept query value', async () => {
    const ua = await normalised('user_agent', 'too_long');
    const url = await normalised('url', 'ill_formed');
    const utm = await normalised('utm_source', 'too_long');
    await keptAndCounted(
      `/p/${'x'.repeat(3_000)}?utm_source=${'s'.repeat(300)}\ud800`,
      `Mozilla/5.0 ${'u'.repeat(600)}`,
    );
    expect(await normalised('user_agent', 'too_long')).toBe(ua + 1);
    expect(await normalised('url', 'ill_formed')).toBe(url + 1);
    expect(await normalised('utm_source', 'too_long')).toBe(utm + 1);
  });

  it('refuses a URL that names no page with 400 DL_INVALID_URL', () =>
    refused(
      JSON.stringify({ events: [{ type: 'pageview', url: 'javascript:alert(1)' }] }),
      400,
      'DL_INVALID_URL',
    ));

  it('refuses the nil UUID as an event id with 400 DL_INVALID_EVENT, saying why', async () => {
    const res = await post(
      JSON.stringify({
        events: [{ type: 'pageview', url: '/a', id: '00000000-0000-0000-0000-000000000000' }],
      }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'DL_INVALID_EVENT',
      message: expect.stringContaining('nil UUID'),
    });
  });

  it('refuses a constant event id (ffffffff-…) with 400 DL_INVALID_EVENT', () =>
    refused(
      JSON.stringify({
        events: [{ type: 'pageview', url: '/a', id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }],
      }),
      400,
      'DL_INVALID_EVENT',
    ));

  it('refuses an unknown event type with 400 DL_EVENT_TYPE_REFUSED', () =>
    refused(JSON.stringify({ events: [{ type: 'click', url: '/a' }] }), 400, 'DL_EVENT_TYPE_REFUSED'));

  it('refuses an internal record type with 400 DL_EVENT_TYPE_REFUSED', () =>
    refused(JSON.stringify({ events: [{ type: 'link', url: '/a' }] }), 400, 'DL_EVENT_TYPE_REFUSED'));

  it('refuses an invalid event id with 400 DL_INVALID_EVENT', () =>
    refused(
      JSON.stringify({ events: [{ type: 'pageview', url: '/a', id: 'not-a-uuid' }] }),
      400,
      'DL_INVALID_EVENT',
    ));

  it('treats an invalid device id as absent: a server id is issued', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-device-fingerprint': 'null' },
      payload: eventsBody(1),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().deviceId).not.toBe('null');
  });

  it('refuses an invalid device id in the admin route with 400 DL_ (or 404 without admin)', async () => {
    const res = await ctx.app.inject({ url: '/v1/admin/devices/!!' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('DL_NOT_FOUND');
  });

  it('refuses a wrong content type with 415 DL_UNSUPPORTED_MEDIA_TYPE', () =>
    refused(JSON.stringify(eventsBody(1)), 415, 'DL_UNSUPPORTED_MEDIA_TYPE', 'application/xml'));

  it('accepts a text/plain beacon carrying the device id in the body', async () => {
    const d = deviceId();
    const res = await post(JSON.stringify(eventsBody(1, { deviceId: d })), 'text/plain;charset=UTF-8');
    expect(res.statusCode).toBe(202);
    expect(res.json().deviceId).toBe(d);
  });

  it('answers 202 tracked false under denied consent in the body', async () => {
    const res = await post(JSON.stringify(eventsBody(1, { consent: 'denied' })));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 0, tracked: false });
  });

  it('never answers a 500 whatever the body', async () => {
    const event = fc.record(
      {
        type: fc.oneof(fc.constant('pageview'), fc.string(), fc.constant('link')),
        url: fc.oneof(fc.webUrl(), fc.string(), fc.integer()),
        referrer: fc.oneof(fc.webUrl(), fc.string(), fc.constant(null)),
        id: fc.oneof(fc.uuid(), fc.string(), fc.constant(uuidv7())),
        ts: fc.oneof(fc.integer(), fc.double(), fc.string()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.record(
        { events: fc.array(event, { maxLength: 5 }), deviceId: fc.anything(), consent: fc.anything() },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('application/json', 'text/plain'), async (value, type) => {
        const res = await post(JSON.stringify(value) ?? 'null', type);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 400) expect(res.json().code).toMatch(/^DL_/);
      }),
      { numRuns: 200 },
    );
  });

  it('never answers a 500 for arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const res = await post(text, 'text/plain');
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });
});

describe('admin device detail access', () => {
  const ctx = useCollector('admin', { ADMIN_TOKEN });

  it('refuses a wrong admin token with 401 DL_ADMIN_UNAUTHORIZED', async () => {
    const res = await ctx.app.inject({
      url: `/v1/admin/devices/${deviceId()}`,
      headers: { authorization: 'Bearer wrong' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('DL_ADMIN_UNAUTHORIZED');
  });

  it('refuses a missing admin token with 401', async () => {
    const res = await ctx.app.inject({ url: `/v1/admin/devices/${deviceId()}` });
    expect(res.statusCode).toBe(401);
  });

  it('refuses an invalid device id with 400 DL_INVALID_DEVICE_ID', async () => {
    const res = await ctx.app.inject({
      url: '/v1/admin/devices/short',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('DL_INVALID_DEVICE_ID');
  });

  it('answers an unknown device with 404 DL_DEVICE_NOT_FOUND, not an empty record', async () => {
    const d = deviceId();
    const res = await ctx.app.inject({
      url: `/v1/admin/devices/${d}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      code: 'DL_DEVICE_NOT_FOUND',
      error: 'Not Found',
      message: expect.any(String),
    });
    expect(res.body).not.toContain(d);
  });

  it('does not serve the debug session route without DEBUG_ROUTES', async () => {
    expect((await ctx.app.inject({ url: '/v1/session' })).statusCode).toBe(404);
  });
});
